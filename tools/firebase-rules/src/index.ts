export { expressionErrors, rulesAllow } from './rules-evaluator.js';
export type { RulesRequest, RulesValue } from './rules-evaluator.js';
export {
  RULE_OPERATIONS,
  RulesSyntaxError,
  allowGrants,
  collectionsGranting,
  deletableCollections,
  flattenMatches,
  parseRules,
} from './rules-parser.js';
export type {
  AllowStatement,
  FunctionDeclaration,
  GranularOperation,
  MatchBlock,
  OperationGrant,
  RuleOperation,
  RulesTree,
  ServiceBlock,
} from './rules-parser.js';
