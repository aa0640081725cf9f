/**
 * The HTTP route table lives with the wire contracts (`lambdas/contracts/routes.ts`) so the
 * handlers can read their own limits from it; lib/ builds the API Gateway routes from it.
 */
export * from '../lambdas/contracts/routes.js';
