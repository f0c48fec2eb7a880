import {
  allowGrants,
  type FunctionDeclaration,
  type GranularOperation,
  type MatchBlock,
  type RulesTree,
} from './rules-parser.js';

/**
 * An evaluator for the expressions `firebase/firestore.rules` uses, so each rule can be tested
 * with a request (who, which document, which operation, the document before and after) without
 * the Java-only official emulator. It follows the rules language where the file relies on it:
 * `&&`/`||` short-circuit, an error (a missing field, `request.auth.uid` when signed out, `get()`
 * of a missing document) denies, and a request is allowed when any matching `allow` is true.
 */

export type RulesValue =
  | string
  | number
  | boolean
  | null
  | RulesValue[]
  | { [key: string]: RulesValue }
  | RulesPath
  | RulesSet;

class RulesPath {
  constructor(readonly segments: string[]) {}
}

class RulesSet {
  constructor(readonly items: RulesValue[]) {}
}

class RulesEvalError extends Error {}

export interface RulesRequest {
  /** The document path below `documents`, e.g. `evenimente/e1`. */
  path: string;
  operation: GranularOperation;
  auth: { uid: string } | null;
  /** The stored document (`resource.data`); absent for a create. */
  resource?: Record<string, RulesValue>;
  /** The document as it would be after a create or update (`request.resource.data`). */
  newData?: Record<string, RulesValue>;
  /** Other documents for `get()`/`exists()`, by path below `documents` (e.g. `users/u1`). */
  documents?: Record<string, Record<string, RulesValue>>;
}

type Node =
  | { k: 'lit'; v: RulesValue }
  | { k: 'id'; name: string }
  | { k: 'member'; of: Node; name: string }
  | { k: 'index'; of: Node; index: Node }
  | { k: 'call'; fn: Node; args: Node[] }
  | { k: 'list'; items: Node[] }
  | { k: 'path'; parts: Array<string | Node> }
  | { k: 'unary'; op: '!' | '-'; of: Node }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'is'; of: Node; type: string };

const BINARY: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  in: 4,
  is: 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};

function isIdentChar(c: string | undefined): boolean {
  return (
    c !== undefined &&
    ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_')
  );
}

class ExpressionParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseAll(): Node {
    const node = this.expression(0);
    this.space();
    if (this.pos < this.text.length) this.fail('unexpected text');
    return node;
  }

  private fail(message: string): never {
    throw new RulesEvalError(`${message} at ${this.pos} in: ${this.text}`);
  }

  private space(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos]!)) this.pos += 1;
  }

  private peekOperator(): string | undefined {
    this.space();
    for (const op of ['||', '&&', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%']) {
      if (this.text.startsWith(op, this.pos)) return op;
    }
    for (const word of ['in', 'is']) {
      if (this.text.startsWith(word, this.pos) && !isIdentChar(this.text[this.pos + 2])) {
        return word;
      }
    }
    return undefined;
  }

  private expression(minPrecedence: number): Node {
    let left = this.unary();
    for (;;) {
      const op = this.peekOperator();
      const precedence = op === undefined ? undefined : BINARY[op];
      if (op === undefined || precedence === undefined || precedence <= minPrecedence) {
        return left;
      }
      this.pos += op.length;
      if (op === 'is') {
        this.space();
        left = { k: 'is', of: left, type: this.identifier() };
      } else {
        left = { k: 'bin', op, l: left, r: this.expression(precedence) };
      }
    }
  }

  private unary(): Node {
    this.space();
    const c = this.text[this.pos];
    if (c === '!' && this.text[this.pos + 1] !== '=') {
      this.pos += 1;
      return { k: 'unary', op: '!', of: this.unary() };
    }
    if (c === '-') {
      this.pos += 1;
      return { k: 'unary', op: '-', of: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(node: Node): Node {
    for (;;) {
      this.space();
      const c = this.text[this.pos];
      if (c === '.') {
        this.pos += 1;
        this.space();
        node = { k: 'member', of: node, name: this.identifier() };
      } else if (c === '(') {
        this.pos += 1;
        node = { k: 'call', fn: node, args: this.items(')') };
      } else if (c === '[') {
        this.pos += 1;
        const index = this.expression(0);
        this.expect(']');
        node = { k: 'index', of: node, index };
      } else {
        return node;
      }
    }
  }

  private items(close: string): Node[] {
    const items: Node[] = [];
    this.space();
    if (this.text[this.pos] === close) {
      this.pos += 1;
      return items;
    }
    for (;;) {
      items.push(this.expression(0));
      this.space();
      if (this.text[this.pos] === ',') this.pos += 1;
      else break;
    }
    this.expect(close);
    return items;
  }

  private expect(c: string): void {
    this.space();
    if (this.text[this.pos] !== c) this.fail(`expected '${c}'`);
    this.pos += 1;
  }

  private identifier(): string {
    const start = this.pos;
    while (isIdentChar(this.text[this.pos])) this.pos += 1;
    if (start === this.pos) this.fail('expected a name');
    return this.text.slice(start, this.pos);
  }

  private primary(): Node {
    this.space();
    const c = this.text[this.pos];
    if (c === '(') {
      this.pos += 1;
      const inner = this.expression(0);
      this.expect(')');
      return inner;
    }
    if (c === '[') {
      this.pos += 1;
      return { k: 'list', items: this.items(']') };
    }
    if (c === "'" || c === '"') return { k: 'lit', v: this.string(c) };
    if (c === '/') return this.path();
    if (c !== undefined && c >= '0' && c <= '9') {
      const start = this.pos;
      while (isIdentChar(this.text[this.pos]) || this.text[this.pos] === '.') this.pos += 1;
      return { k: 'lit', v: Number(this.text.slice(start, this.pos)) };
    }
    const name = this.identifier();
    if (name === 'true') return { k: 'lit', v: true };
    if (name === 'false') return { k: 'lit', v: false };
    if (name === 'null') return { k: 'lit', v: null };
    return { k: 'id', name };
  }

  private string(quote: string): string {
    this.pos += 1;
    let out = '';
    while (this.pos < this.text.length && this.text[this.pos] !== quote) {
      if (this.text[this.pos] === '\\') this.pos += 1;
      out += this.text[this.pos] ?? '';
      this.pos += 1;
    }
    this.pos += 1;
    return out;
  }

  /** `/databases/$(database)/documents/users/$(request.auth.uid)`. */
  private path(): Node {
    const parts: Array<string | Node> = [];
    while (this.text[this.pos] === '/') {
      this.pos += 1;
      if (this.text.startsWith('$(', this.pos)) {
        this.pos += 2;
        parts.push(this.expression(0));
        this.expect(')');
      } else {
        const start = this.pos;
        while (isIdentChar(this.text[this.pos]) || this.text[this.pos] === '-') this.pos += 1;
        parts.push(this.text.slice(start, this.pos));
      }
    }
    return { k: 'path', parts };
  }
}

interface Scope {
  vars: Map<string, RulesValue>;
  functions: Map<string, FunctionDeclaration>;
  request: RulesRequest;
  depth: number;
}

function isMap(v: RulesValue): v is { [key: string]: RulesValue } {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof RulesPath) &&
    !(v instanceof RulesSet)
  );
}

function equal(a: RulesValue, b: RulesValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function listOf(v: RulesValue): RulesValue[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RulesSet) return v.items;
  throw new RulesEvalError('not a list or set');
}

function field(of: RulesValue, name: string): RulesValue {
  if (!isMap(of) || !(name in of)) throw new RulesEvalError(`no field ${name}`);
  return of[name]!;
}

function documentPath(value: RulesValue): string {
  if (!(value instanceof RulesPath)) throw new RulesEvalError('not a path');
  const at = value.segments.indexOf('documents');
  return value.segments.slice(at + 1).join('/');
}

function callMethod(target: RulesValue, name: string, args: RulesValue[]): RulesValue {
  switch (name) {
    case 'get': {
      if (!isMap(target)) throw new RulesEvalError('get() on a non-map');
      const key = args[0];
      if (typeof key !== 'string') throw new RulesEvalError('get() key');
      return key in target ? target[key]! : (args[1] ?? null);
    }
    case 'keys':
      if (!isMap(target)) throw new RulesEvalError('keys() on a non-map');
      return Object.keys(target);
    case 'size':
      if (typeof target === 'string') return target.length;
      return isMap(target) ? Object.keys(target).length : listOf(target).length;
    case 'diff': {
      const other = args[0];
      if (!isMap(target) || other === undefined || !isMap(other)) throw new RulesEvalError('diff');
      const keys = new Set([...Object.keys(target), ...Object.keys(other)]);
      return {
        affected: new RulesSet(
          [...keys].filter((k) => !(k in target) || !(k in other) || !equal(target[k]!, other[k]!)),
        ),
      };
    }
    case 'affectedKeys':
      return field(target, 'affected');
    case 'hasAny':
      return listOf(args[0] ?? []).some((x) => listOf(target).some((y) => equal(x, y)));
    case 'hasAll':
      return listOf(args[0] ?? []).every((x) => listOf(target).some((y) => equal(x, y)));
    case 'hasOnly':
      return listOf(target).every((x) => listOf(args[0] ?? []).some((y) => equal(x, y)));
    default:
      throw new RulesEvalError(`unknown method ${name}`);
  }
}

function evaluate(node: Node, scope: Scope): RulesValue {
  switch (node.k) {
    case 'lit':
      return node.v;
    case 'list':
      return node.items.map((n) => evaluate(n, scope));
    case 'id': {
      if (!scope.vars.has(node.name)) throw new RulesEvalError(`unknown name ${node.name}`);
      return scope.vars.get(node.name)!;
    }
    case 'member':
      return field(evaluate(node.of, scope), node.name);
    case 'index': {
      const of = evaluate(node.of, scope);
      const index = evaluate(node.index, scope);
      if (typeof index === 'string') return field(of, index);
      if (typeof index === 'number') {
        const item = listOf(of)[index];
        if (item === undefined) throw new RulesEvalError('index out of range');
        return item;
      }
      throw new RulesEvalError('bad index');
    }
    case 'path':
      return new RulesPath(
        node.parts.map((p) => {
          if (typeof p === 'string') return p;
          const value = evaluate(p, scope);
          if (typeof value !== 'string') throw new RulesEvalError('path segment is not a string');
          return value;
        }),
      );
    case 'unary': {
      const value = evaluate(node.of, scope);
      if (node.op === '!') {
        if (typeof value !== 'boolean') throw new RulesEvalError('! of a non-boolean');
        return !value;
      }
      if (typeof value !== 'number') throw new RulesEvalError('- of a non-number');
      return -value;
    }
    case 'is': {
      const value = evaluate(node.of, scope);
      const types: Record<string, (v: RulesValue) => boolean> = {
        bool: (v) => typeof v === 'boolean',
        string: (v) => typeof v === 'string',
        int: (v) => Number.isInteger(v),
        number: (v) => typeof v === 'number',
        float: (v) => typeof v === 'number',
        list: (v) => Array.isArray(v),
        map: isMap,
        path: (v) => v instanceof RulesPath,
      };
      const check = types[node.type];
      if (check === undefined) throw new RulesEvalError(`unknown type ${node.type}`);
      return check(value);
    }
    case 'bin':
      return binary(node.op, node.l, node.r, scope);
    case 'call':
      return call(node, scope);
  }
}

function binary(op: string, l: Node, r: Node, scope: Scope): RulesValue {
  if (op === '&&' || op === '||') {
    const left = evaluate(l, scope);
    if (typeof left !== 'boolean') throw new RulesEvalError(`${op} of a non-boolean`);
    if (op === '&&' ? !left : left) return left;
    const right = evaluate(r, scope);
    if (typeof right !== 'boolean') throw new RulesEvalError(`${op} of a non-boolean`);
    return right;
  }
  const a = evaluate(l, scope);
  const b = evaluate(r, scope);
  switch (op) {
    case '==':
      return equal(a, b);
    case '!=':
      return !equal(a, b);
    case 'in':
      if (isMap(b)) return typeof a === 'string' && a in b;
      return listOf(b).some((x) => equal(x, a));
    default: {
      if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) {
        throw new RulesEvalError(`${op} of unlike values`);
      }
      const x = a as number;
      const y = b as number;
      const results: Record<string, () => RulesValue> = {
        '<': () => x < y,
        '<=': () => x <= y,
        '>': () => x > y,
        '>=': () => x >= y,
        '+': () => x + y,
        '-': () => x - y,
        '*': () => x * y,
        '/': () => x / y,
        '%': () => x % y,
      };
      const result = results[op];
      if (result === undefined) throw new RulesEvalError(`unknown operator ${op}`);
      return result();
    }
  }
}

function call(node: Extract<Node, { k: 'call' }>, scope: Scope): RulesValue {
  const args = node.args.map((a) => evaluate(a, scope));
  if (node.fn.k === 'member') {
    return callMethod(evaluate(node.fn.of, scope), node.fn.name, args);
  }
  if (node.fn.k !== 'id') throw new RulesEvalError('not callable');
  const docs = scope.request.documents ?? {};
  if (node.fn.name === 'get' || node.fn.name === 'exists') {
    const data = docs[documentPath(args[0] ?? null)];
    if (node.fn.name === 'exists') return data !== undefined;
    if (data === undefined) throw new RulesEvalError('get() of a missing document');
    return { data };
  }
  const fn = scope.functions.get(node.fn.name);
  if (fn === undefined) throw new RulesEvalError(`unknown function ${node.fn.name}`);
  if (scope.depth > 20) throw new RulesEvalError('functions nested too deeply');
  const body = fn.body.trim();
  if (!body.startsWith('return ')) throw new RulesEvalError(`function ${fn.name}: only "return"`);
  const vars = new Map(scope.vars);
  fn.params.forEach((p, i) => vars.set(p, args[i] ?? null));
  const expression = body.slice('return '.length).replace(/;\s*$/, '');
  return evaluate(parseExpression(expression), { ...scope, vars, depth: scope.depth + 1 });
}

const parsed = new Map<string, Node>();

function parseExpression(text: string): Node {
  let node = parsed.get(text);
  if (node === undefined) {
    node = new ExpressionParser(text).parseAll();
    parsed.set(text, node);
  }
  return node;
}

/** Binds a match path's `{var}` and `{var=**}` segments, or undefined when it does not match. */
function matchSegments(
  pattern: string,
  segments: string[],
): { vars: Map<string, RulesValue>; rest: string[] } | undefined {
  const vars = new Map<string, RulesValue>();
  const parts = pattern.split('/').filter(Boolean);
  let i = 0;
  for (const part of parts) {
    if (part.startsWith('{') && part.endsWith('=**}')) {
      vars.set(part.slice(1, -4), segments.slice(i).join('/'));
      return { vars, rest: [] };
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part.startsWith('{') && part.endsWith('}')) vars.set(part.slice(1, -1), segment);
    else if (part !== segment) return undefined;
    i += 1;
  }
  return { vars, rest: segments.slice(i) };
}

/**
 * Whether the rules allow the request: some `allow` of a block matching the whole path grants
 * the operation and its condition evaluates to true (an error counts as false).
 */
export function rulesAllow(tree: RulesTree, request: RulesRequest): boolean {
  const segments = ['databases', '(default)', 'documents', ...request.path.split('/')];
  const auth = request.auth === null ? null : { uid: request.auth.uid, token: {} };
  const base = new Map<string, RulesValue>([
    [
      'request',
      {
        auth,
        method: request.operation,
        resource: request.newData === undefined ? null : { data: request.newData },
      },
    ],
    ['resource', request.resource === undefined ? null : { data: request.resource }],
  ]);
  const visit = (
    blocks: MatchBlock[],
    rest: string[],
    vars: Map<string, RulesValue>,
    functions: Map<string, FunctionDeclaration>,
  ): boolean =>
    blocks.some((block) => {
      const bound = matchSegments(block.path, rest);
      if (bound === undefined) return false;
      const scopeVars = new Map([...vars, ...bound.vars]);
      const scopeFns = new Map([...functions, ...block.functions.map((f) => [f.name, f] as const)]);
      if (bound.rest.length === 0) {
        const scope: Scope = { vars: scopeVars, functions: scopeFns, request, depth: 0 };
        const granted = block.allows.some((allow) => {
          if (!allowGrants(allow, request.operation)) return false;
          try {
            return evaluate(parseExpression(allow.condition), scope) === true;
          } catch (error) {
            if (error instanceof RulesEvalError) return false;
            throw error;
          }
        });
        if (granted) return true;
      }
      return visit(block.matches, bound.rest, scopeVars, scopeFns);
    });
  return tree.services.some((service) =>
    visit(
      service.matches,
      segments,
      base,
      new Map(service.functions.map((f) => [f.name, f] as const)),
    ),
  );
}

/** Conditions and function bodies this evaluator cannot parse (a test keeps this empty). */
export function expressionErrors(tree: RulesTree): string[] {
  const errors: string[] = [];
  const check = (text: string, where: string): void => {
    try {
      parseExpression(text);
    } catch (error) {
      errors.push(`${where}: ${(error as Error).message}`);
    }
  };
  const visitFunctions = (functions: FunctionDeclaration[]): void => {
    for (const fn of functions) {
      const body = fn.body.trim();
      if (!body.startsWith('return '))
        errors.push(`function ${fn.name}: only "return" is supported`);
      else check(body.slice('return '.length).replace(/;\s*$/, ''), `function ${fn.name}`);
    }
  };
  const visit = (blocks: MatchBlock[]): void => {
    for (const block of blocks) {
      visitFunctions(block.functions);
      for (const allow of block.allows) check(allow.condition, `${block.fullPath}:${allow.line}`);
      visit(block.matches);
    }
  };
  for (const service of tree.services) {
    visitFunctions(service.functions);
    visit(service.matches);
  }
  return errors;
}
