// Where Jest can require ES modules (Node 24.9 on), @nestjs/throttler's CommonJS requires Nest's
// ES modules. A spec that imports both would have Jest require them while its own import graph is
// still being linked, which Jest refuses as a cycle. Loaded here first, they are already
// evaluated when @nestjs/throttler asks for them.
import '@nestjs/common';
import '@nestjs/core';
