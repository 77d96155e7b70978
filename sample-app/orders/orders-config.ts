/** Injection token of the orders service's `OrdersServiceConfig`. */
export const ORDERS_SERVICE_CONFIG = Symbol('OrdersServiceConfig');
