/**
 * A parser for the subset of the Firestore security rules language that `firebase/firestore.rules`
 * uses: `rules_version`, `service`, nested `match` blocks, `function` declarations and
 * `allow <ops>: if <expr>;` statements. Conditions are kept as normalised source text (comments
 * removed, whitespace collapsed, strings verbatim) rather than evaluated: the checks built on it
 * only need to know which operations a block grants and whether the condition is literally `false`.
 */

export const RULE_OPERATIONS = [
  'read',
  'write',
  'get',
  'list',
  'create',
  'update',
  'delete',
] as const;
export type RuleOperation = (typeof RULE_OPERATIONS)[number];

/** The operations a request is actually checked for; `read` and `write` are shorthands for them. */
export type GranularOperation = 'get' | 'list' | 'create' | 'update' | 'delete';

export interface AllowStatement {
  ops: RuleOperation[];
  /** Normalised condition text; `allow read;` without `if` is recorded as `true`. */
  condition: string;
  line: number;
}

export interface FunctionDeclaration {
  name: string;
  params: string[];
  body: string;
  line: number;
}

export interface MatchBlock {
  /** The path as written after `match`, e.g. `/threads/{threadId}`. */
  path: string;
  /** The path joined with every enclosing match, e.g. `/databases/{database}/documents/threads/{threadId}`. */
  fullPath: string;
  line: number;
  allows: AllowStatement[];
  functions: FunctionDeclaration[];
  matches: MatchBlock[];
}

export interface ServiceBlock {
  name: string;
  functions: FunctionDeclaration[];
  matches: MatchBlock[];
}

export interface RulesTree {
  rulesVersion: string | undefined;
  services: ServiceBlock[];
}

export interface OperationGrant {
  path: string;
  condition: string;
}

export class RulesSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
    this.name = 'RulesSyntaxError';
  }
}

const SHORTHAND: Record<GranularOperation, RuleOperation> = {
  get: 'read',
  list: 'read',
  create: 'write',
  update: 'write',
  delete: 'write',
};

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

function isOperation(word: string): word is RuleOperation {
  return (RULE_OPERATIONS as readonly string[]).includes(word);
}

class RulesScanner {
  private pos = 0;

  constructor(private readonly src: string) {}

  get atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  get offset(): number {
    return this.pos;
  }

  lineAt(offset: number): number {
    let line = 1;
    for (let i = 0; i < offset && i < this.src.length; i++) if (this.src[i] === '\n') line++;
    return line;
  }

  fail(message: string, offset = this.pos): never {
    const before = this.src.slice(0, offset);
    const column = offset - before.lastIndexOf('\n');
    throw new RulesSyntaxError(message, this.lineAt(offset), column);
  }

  peek(ahead = 0): string {
    return this.src[this.pos + ahead] ?? '';
  }

  /** Skips whitespace and both comment styles; returns true when anything was skipped. */
  skipTrivia(): boolean {
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        this.pos++;
      } else if (c === '/' && this.peek(1) === '/') {
        const end = this.src.indexOf('\n', this.pos);
        this.pos = end === -1 ? this.src.length : end + 1;
      } else if (c === '/' && this.peek(1) === '*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        if (end === -1) this.fail('Unterminated block comment');
        this.pos = end + 2;
      } else {
        return this.pos > start;
      }
    }
  }

  readIdentifier(what = 'an identifier'): string {
    this.skipTrivia();
    IDENTIFIER.lastIndex = this.pos;
    const found = IDENTIFIER.exec(this.src);
    if (!found) this.fail(`Expected ${what}`);
    this.pos += found[0].length;
    return found[0];
  }

  /** Consumes `char` after optional trivia; returns false (consuming nothing) when it is not there. */
  accept(char: string): boolean {
    this.skipTrivia();
    if (this.peek() !== char) return false;
    this.pos++;
    return true;
  }

  expect(char: string): void {
    if (!this.accept(char)) this.fail(`Expected '${char}'`);
  }

  /** Reads a quoted string starting at the cursor and returns it with its quotes and escapes intact. */
  readQuoted(): string {
    const quote = this.peek();
    const start = this.pos++;
    while (this.peek() !== quote) {
      if (this.atEnd || this.peek() === '\n') this.fail('Unterminated string', start);
      if (this.peek() === '\\') this.pos++;
      this.pos++;
    }
    this.pos++;
    return this.src.slice(start, this.pos);
  }

  readStringLiteral(): string {
    this.skipTrivia();
    const quote = this.peek();
    if (quote !== "'" && quote !== '"') this.fail('Expected a string');
    return this.readQuoted().slice(1, -1);
  }

  /** `match` paths: `/seg`, `/{var}`, `/{var=**}` or `/$(expr)` segments, ended by trivia or `{`. */
  readMatchPath(): string {
    this.skipTrivia();
    if (this.peek() !== '/') this.fail("Expected a match path starting with '/'");
    let path = '';
    while (this.peek() === '/') {
      const segmentStart = this.pos++;
      if (this.peek() === '{') {
        const end = this.src.indexOf('}', this.pos);
        if (end === -1) this.fail('Unterminated path variable', segmentStart);
        this.pos = end + 1;
      } else if (this.peek() === '$' && this.peek(1) === '(') {
        this.pos++;
        this.readBalanced();
      } else {
        while (!this.atEnd && !/[\s/{]/.test(this.peek())) this.pos++;
      }
      if (this.pos === segmentStart + 1) this.fail('Empty path segment', segmentStart);
      path += this.src.slice(segmentStart, this.pos);
    }
    return path;
  }

  /**
   * Reads source text up to (not including) a terminator at nesting depth zero, normalised:
   * comments dropped, whitespace runs collapsed to one space, strings copied verbatim.
   * Used for conditions (ended by `;` or the enclosing `}`) and for bracketed groups.
   */
  readNormalised(isTerminator: (char: string) => boolean): string {
    const closers: string[] = [];
    let out = '';
    const space = (): void => {
      if (out !== '' && !out.endsWith(' ')) out += ' ';
    };
    for (;;) {
      if (this.skipTrivia()) space();
      if (this.atEnd) this.fail('Unexpected end of rules');
      const c = this.peek();
      if (closers.length === 0 && isTerminator(c)) return out.trim();
      if (c === "'" || c === '"') {
        out += this.readQuoted();
        continue;
      }
      const closer = OPENERS[c];
      if (closer !== undefined) {
        closers.push(closer);
      } else if (c === ')' || c === ']' || c === '}') {
        if (closers.pop() !== c) this.fail(`Unbalanced '${c}'`);
      }
      out += c;
      this.pos++;
    }
  }

  /** At an opening bracket: consumes the group and returns its normalised inside. */
  readBalanced(): string {
    const open = this.peek();
    const close = OPENERS[open];
    if (close === undefined) this.fail('Expected an opening bracket');
    this.pos++;
    const inside = this.readNormalised((c) => c === close);
    this.pos++;
    return inside;
  }
}

/** Drops parentheses that wrap the whole condition, so `(false)` reads as `false`. */
function stripOuterParens(expr: string): string {
  let current = expr;
  while (current.startsWith('(') && current.endsWith(')')) {
    let depth = 0;
    let quote = '';
    let wrapsAll = true;
    for (let i = 0; i < current.length; i++) {
      const c = current[i];
      if (quote !== '') {
        if (c === '\\') i++;
        else if (c === quote) quote = '';
      } else if (c === "'" || c === '"') {
        quote = c;
      } else if (c === '(') {
        depth++;
      } else if (c === ')' && --depth === 0 && i < current.length - 1) {
        wrapsAll = false;
        break;
      }
    }
    if (!wrapsAll) break;
    current = current.slice(1, -1).trim();
  }
  return current;
}

function parseAllow(scanner: RulesScanner, line: number): AllowStatement {
  const ops: RuleOperation[] = [];
  do {
    const op = scanner.readIdentifier('an operation');
    if (!isOperation(op)) scanner.fail(`Unknown operation '${op}'`);
    ops.push(op);
  } while (scanner.accept(','));

  if (scanner.accept(';')) return { ops, condition: 'true', line };
  scanner.expect(':');
  const keyword = scanner.readIdentifier("'if'");
  if (keyword !== 'if') scanner.fail(`Expected 'if' but found '${keyword}'`);
  const condition = stripOuterParens(scanner.readNormalised((c) => c === ';' || c === '}'));
  if (condition === '') scanner.fail('Empty condition');
  // The last statement of a block may omit its semicolon.
  scanner.accept(';');
  return { ops, condition, line };
}

function parseFunction(scanner: RulesScanner, line: number): FunctionDeclaration {
  const name = scanner.readIdentifier('a function name');
  scanner.skipTrivia();
  if (scanner.peek() !== '(') scanner.fail("Expected '('");
  const paramText = scanner.readBalanced();
  const params = paramText === '' ? [] : paramText.split(',').map((p) => p.trim());
  scanner.skipTrivia();
  if (scanner.peek() !== '{') scanner.fail("Expected '{'");
  return { name, params, body: scanner.readBalanced(), line };
}

/** Parses statements until the `}` closing the current block, which it consumes. */
function parseBlockBody(
  scanner: RulesScanner,
  block: { functions: FunctionDeclaration[]; matches: MatchBlock[]; allows?: AllowStatement[] },
  parentPath: string,
): void {
  for (;;) {
    if (scanner.accept('}')) return;
    scanner.skipTrivia();
    if (scanner.atEnd) scanner.fail("Expected '}'");
    const line = scanner.lineAt(scanner.offset);
    const keyword = scanner.readIdentifier('a statement');
    switch (keyword) {
      case 'match': {
        const path = scanner.readMatchPath();
        scanner.expect('{');
        const match: MatchBlock = {
          path,
          fullPath: parentPath + path,
          line,
          allows: [],
          functions: [],
          matches: [],
        };
        parseBlockBody(scanner, match, match.fullPath);
        block.matches.push(match);
        break;
      }
      case 'function':
        block.functions.push(parseFunction(scanner, line));
        break;
      case 'allow':
        if (block.allows === undefined) scanner.fail("'allow' outside a match block");
        block.allows.push(parseAllow(scanner, line));
        break;
      default:
        scanner.fail(`Unexpected '${keyword}'`);
    }
  }
}

/** Parses a rules file into its services and their nested match blocks. */
export function parseRules(rulesText: string): RulesTree {
  const scanner = new RulesScanner(rulesText);
  const tree: RulesTree = { rulesVersion: undefined, services: [] };
  for (;;) {
    scanner.skipTrivia();
    if (scanner.atEnd) return tree;
    const keyword = scanner.readIdentifier('a statement');
    if (keyword === 'rules_version') {
      scanner.expect('=');
      tree.rulesVersion = scanner.readStringLiteral();
      scanner.accept(';');
    } else if (keyword === 'service') {
      let name = scanner.readIdentifier('a service name');
      while (scanner.accept('.')) name += '.' + scanner.readIdentifier('a service name');
      scanner.expect('{');
      const service: ServiceBlock = { name, functions: [], matches: [] };
      parseBlockBody(scanner, service, '');
      tree.services.push(service);
    } else {
      scanner.fail(`Unexpected '${keyword}'`);
    }
  }
}

/** Every match block of the tree, parents before children. */
export function flattenMatches(tree: RulesTree): MatchBlock[] {
  const out: MatchBlock[] = [];
  const visit = (blocks: MatchBlock[]): void => {
    for (const block of blocks) {
      out.push(block);
      visit(block.matches);
    }
  };
  for (const service of tree.services) visit(service.matches);
  return out;
}

/** Whether the statement grants `operation`, directly or through `read`/`write`. */
export function allowGrants(allow: AllowStatement, operation: GranularOperation): boolean {
  return allow.ops.includes(operation) || allow.ops.includes(SHORTHAND[operation]);
}

/** Every allow statement that can grant `operation`, i.e. whose condition is not literally `false`. */
export function collectionsGranting(
  rulesText: string,
  operation: GranularOperation,
): OperationGrant[] {
  return flattenMatches(parseRules(rulesText)).flatMap((block) =>
    block.allows
      .filter((allow) => allowGrants(allow, operation) && allow.condition !== 'false')
      .map((allow) => ({ path: block.fullPath, condition: allow.condition })),
  );
}

/** Match paths where a client could delete a document; the project's rules must yield none. */
export function deletableCollections(rulesText: string): OperationGrant[] {
  return collectionsGranting(rulesText, 'delete');
}
