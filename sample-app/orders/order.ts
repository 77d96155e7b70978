import { BadRequestException } from '@nestjs/common';

/** An order, always in exactly one tenant. */
export interface Order {
  readonly id: string;
  readonly tenant: string;
  readonly item: string;
  readonly qty: number;
}

/** What a client sends to create an order. */
export interface NewOrder {
  readonly item: string;
  readonly qty: number;
}

export const MAX_ITEM_LENGTH = 200;
export const MAX_QTY = 1_000_000;

/** A validated `{item, qty}` body, or 400; other fields (such as `access_token`) are ignored. */
export function parseNewOrder(body: unknown): NewOrder {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException('expected a JSON object {item, qty}');
  }
  const { item, qty } = body as Record<string, unknown>;
  if (typeof item !== 'string' || item.trim() === '' || item.length > MAX_ITEM_LENGTH) {
    throw new BadRequestException(
      `item must be a non-empty string of at most ${MAX_ITEM_LENGTH} characters`,
    );
  }
  if (typeof qty !== 'number' || !Number.isInteger(qty) || qty < 1 || qty > MAX_QTY) {
    throw new BadRequestException(`qty must be an integer from 1 to ${MAX_QTY}`);
  }
  return { item, qty };
}
