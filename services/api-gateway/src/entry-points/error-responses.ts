import { ProblemDetails } from '@wacrm/contracts';

/** The problem+json answers every documented operation may give, spread into its `response`. */
export const errorResponses = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  429: ProblemDetails,
};
