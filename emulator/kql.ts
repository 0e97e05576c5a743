/**
 * The subset of the Kusto Query Language the emulator's Log Analytics API runs, honestly: parsed,
 * checked against the table's columns and evaluated over its rows. What it runs:
 *
 *     <Table>
 *     | where <predicate>                  (and / or / parentheses over comparisons)
 *     | summarize [Name =] <aggregate>, ... [by <column>, ...]
 *     | project <column>, ...
 *     | sample <n> | take <n> | limit <n>
 *     | order by <column> [asc | desc]     (also `sort by`)
 *
 * Comparisons: `<column> == != < <= > >= <literal>`, `<column> in (<literal>, ...)`,
 * `<column> between (<literal> .. <literal>)`; literals: "text" or 'text', numbers,
 * `datetime(<ISO 8601>)`, `true`, `false`. Aggregates: `count()`, `percentile(<column>, <n>)`,
 * `min`, `max`, `avg`, `sum` of a column. Anything else — another operator, a function such as
 * `ago()` or `bin()`, `extend`, `let` — is refused with a KqlError saying so; nothing is guessed.
 */

export type KqlType = "string" | "int" | "long" | "real" | "datetime" | "bool";
export type KqlValue = string | number | boolean | null;

export interface KqlColumn {
  name: string;
  type: KqlType;
}

export interface KqlTable {
  name: string;
  columns: KqlColumn[];
  /** Datetimes as epoch ms while evaluating. */
  rows: KqlValue[][];
}

/**
 * Why a query was refused, in the categories the service reports: a syntax error (with where),
 * a semantic error (an unknown table or column), or something valid the emulator does not run.
 */
export class KqlError extends Error {
  readonly kind: "syntax" | "semantic" | "unsupported";
  readonly token?: string;
  readonly line?: number;
  readonly pos?: number;

  constructor(
    kind: KqlError["kind"],
    message: string,
    at?: { token: string; line: number; pos: number },
  ) {
    super(message);
    this.name = "KqlError";
    this.kind = kind;
    if (at) {
      this.token = at.token;
      this.line = at.line;
      this.pos = at.pos;
    }
  }
}

// Tokens

type TokenKind = "ident" | "number" | "string" | "datetime" | "symbol" | "end";

interface Token {
  kind: TokenKind;
  text: string;
  line: number;
  pos: number;
}

const SYMBOLS = ["==", "!=", "<=", ">=", "..", "|", ",", "(", ")", "<", ">", "="];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = { line, pos: i - lineStart };
    if (c === '"' || c === "'") {
      let value = "";
      let j = i + 1;
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === "\\" && j + 1 < text.length) {
          j++;
          value += text[j];
        } else value += text[j];
      }
      if (j >= text.length) throw syntax(text.slice(i), at);
      tokens.push({ kind: "string", text: value, ...at });
      i = j + 1;
      continue;
    }
    const number = /^\d+(\.\d+)?/.exec(text.slice(i));
    if (number && !/[A-Za-z_]/.test(text[i + number[0].length] ?? "")) {
      tokens.push({ kind: "number", text: number[0], ...at });
      i += number[0].length;
      continue;
    }
    // datetime(2026-11-27T10:00:00Z): the text in parentheses is the literal, read as it is.
    const datetime = /^datetime\s*\(([^)]*)\)/.exec(text.slice(i));
    if (datetime) {
      tokens.push({ kind: "datetime", text: datetime[1].trim(), ...at });
      i += datetime[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0], ...at });
      i += ident[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (!symbol) throw syntax(c, at);
    tokens.push({ kind: "symbol", text: symbol, ...at });
    i += symbol.length;
  }
  tokens.push({ kind: "end", text: "<EOF>", line, pos: i - lineStart });
  return tokens;
}

function syntax(token: string, at: { line: number; pos: number }): KqlError {
  return new KqlError(
    "syntax",
    `Query could not be parsed at '${token}' on line [${at.line},${at.pos}]`,
    { token, ...at },
  );
}

// Syntax tree

type Comparison =
  | { kind: "compare"; column: string; op: string; value: KqlValue }
  | { kind: "in"; column: string; values: KqlValue[] }
  | { kind: "between"; column: string; low: KqlValue; high: KqlValue };

type Predicate = Comparison | { kind: "and" | "or"; left: Predicate; right: Predicate };

interface Aggregate {
  name: string;
  fn: "count" | "percentile" | "min" | "max" | "avg" | "sum";
  column?: string;
  percent?: number;
}

type Operator =
  | { kind: "where"; predicate: Predicate }
  | { kind: "summarize"; aggregates: Aggregate[]; by: string[] }
  | { kind: "project"; columns: string[] }
  | { kind: "sample" | "take"; count: number }
  | { kind: "order"; column: string; descending: boolean };

interface Query {
  table: Token;
  operators: { operator: Operator; token: Token }[];
}

const OPERATORS_RUN = "where, summarize, project, sample, take, limit, order by, sort by";
const KNOWN_OPERATORS = new Set([
  "extend",
  "join",
  "union",
  "top",
  "distinct",
  "count",
  "render",
  "parse",
  "mv-expand",
  "make-series",
  "lookup",
  "as",
  "search",
  "evaluate",
  "serialize",
  "invoke",
]);

class Parser {
  #tokens: Token[];
  #at = 0;

  constructor(text: string) {
    this.#tokens = tokenize(text);
  }

  parse(): Query {
    const table = this.#next();
    if (table.kind !== "ident") throw this.#syntax(table);
    if (table.text === "let") {
      throw new KqlError("unsupported", "The emulator does not run 'let' statements.");
    }
    const operators: Query["operators"] = [];
    while (this.#peek().text === "|") {
      this.#next();
      const token = this.#peek();
      operators.push({ operator: this.#operator(), token });
    }
    const end = this.#next();
    if (end.kind !== "end") throw this.#syntax(end);
    return { table, operators };
  }

  #operator(): Operator {
    const token = this.#next();
    if (token.kind !== "ident") throw this.#syntax(token);
    switch (token.text) {
      case "where":
        return { kind: "where", predicate: this.#or() };
      case "summarize":
        return this.#summarize();
      case "project":
        return { kind: "project", columns: this.#columns() };
      case "sample":
        return { kind: "sample", count: this.#count() };
      case "take":
      case "limit":
        return { kind: "take", count: this.#count() };
      case "order":
      case "sort": {
        this.#keyword("by");
        const column = this.#identifier();
        const direction = this.#peek().text;
        if (direction === "asc" || direction === "desc") this.#next();
        // KQL sorts descending by default.
        return { kind: "order", column, descending: direction !== "asc" };
      }
      default:
        if (KNOWN_OPERATORS.has(token.text)) {
          throw new KqlError(
            "unsupported",
            `The emulator does not run the '${token.text}' operator; it runs ${OPERATORS_RUN}.`,
          );
        }
        throw this.#syntax(token);
    }
  }

  #summarize(): Operator {
    const aggregates: Aggregate[] = [];
    for (;;) {
      let name: string | undefined;
      const first = this.#identifier();
      let fn = first;
      if (this.#peek().text === "=") {
        this.#next();
        name = first;
        fn = this.#identifier();
      }
      aggregates.push(this.#aggregate(fn, name));
      if (this.#peek().text !== ",") break;
      this.#next();
    }
    let by: string[] = [];
    if (this.#peek().text === "by") {
      this.#next();
      by = this.#columns();
    }
    return { kind: "summarize", aggregates, by };
  }

  #aggregate(fn: string, name: string | undefined): Aggregate {
    this.#symbol("(");
    if (fn === "count") {
      this.#symbol(")");
      return { name: name ?? "count_", fn: "count" };
    }
    if (!["percentile", "min", "max", "avg", "sum"].includes(fn)) {
      throw new KqlError(
        "unsupported",
        `The emulator does not run the aggregate '${fn}()'; it runs count(), percentile(), min(), max(), avg() and sum().`,
      );
    }
    const column = this.#identifier();
    if (fn === "percentile") {
      this.#symbol(",");
      const token = this.#next();
      if (token.kind !== "number") throw this.#syntax(token);
      this.#symbol(")");
      const percent = Number(token.text);
      return {
        name: name ?? `percentile_${column}_${token.text.replace(".", "_")}`,
        fn: "percentile",
        column,
        percent,
      };
    }
    this.#symbol(")");
    return { name: name ?? `${fn}_${column}`, fn: fn as Aggregate["fn"], column };
  }

  #or(): Predicate {
    let left = this.#and();
    while (this.#peek().text === "or") {
      this.#next();
      left = { kind: "or", left, right: this.#and() };
    }
    return left;
  }

  #and(): Predicate {
    let left = this.#comparison();
    while (this.#peek().text === "and") {
      this.#next();
      left = { kind: "and", left, right: this.#comparison() };
    }
    return left;
  }

  #comparison(): Predicate {
    if (this.#peek().text === "(") {
      this.#next();
      const inner = this.#or();
      this.#symbol(")");
      return inner;
    }
    const token = this.#peek();
    const column = this.#identifier();
    if (this.#peek().text === "(") {
      throw new KqlError(
        "unsupported",
        `The emulator does not run the function '${token.text}()' in a predicate; compare a column with a literal.`,
      );
    }
    const op = this.#next();
    if (op.text === "in") {
      return { kind: "in", column, values: this.#literalList() };
    }
    if (op.text === "between") {
      this.#symbol("(");
      const low = this.#literal();
      this.#symbol("..");
      const high = this.#literal();
      this.#symbol(")");
      return { kind: "between", column, low, high };
    }
    if (["==", "!=", "<", "<=", ">", ">="].includes(op.text)) {
      return { kind: "compare", column, op: op.text, value: this.#literal() };
    }
    if (op.kind === "ident") {
      throw new KqlError(
        "unsupported",
        `The emulator does not run the '${op.text}' operator in a predicate; it runs ==, !=, <, <=, >, >=, in and between.`,
      );
    }
    throw this.#syntax(op);
  }

  #literalList(): KqlValue[] {
    this.#symbol("(");
    const values = [this.#literal()];
    while (this.#peek().text === ",") {
      this.#next();
      values.push(this.#literal());
    }
    this.#symbol(")");
    return values;
  }

  #literal(): KqlValue {
    const token = this.#next();
    if (token.kind === "string") return token.text;
    if (token.kind === "number") return Number(token.text);
    if (token.kind === "ident" && (token.text === "true" || token.text === "false")) {
      return token.text === "true";
    }
    if (token.kind === "datetime") {
      const time = Date.parse(token.text);
      if (!Number.isFinite(time)) {
        throw new KqlError(
          "syntax",
          `Failed to parse datetime literal: 'datetime(${token.text})'`,
          {
            token: `datetime(${token.text})`,
            line: token.line,
            pos: token.pos,
          },
        );
      }
      return time;
    }
    if (token.kind === "ident") {
      throw new KqlError(
        "unsupported",
        `The emulator does not run '${token.text}' as a value; give a literal ("text", a number, datetime(...), true or false).`,
      );
    }
    throw this.#syntax(token);
  }

  #columns(): string[] {
    const columns = [this.#identifier()];
    while (this.#peek().text === ",") {
      this.#next();
      columns.push(this.#identifier());
    }
    return columns;
  }

  #count(): number {
    const token = this.#next();
    if (token.kind !== "number" || !/^\d+$/.test(token.text)) throw this.#syntax(token);
    return Number(token.text);
  }

  #identifier(): string {
    const token = this.#next();
    if (token.kind !== "ident") throw this.#syntax(token);
    return token.text;
  }

  #keyword(text: string): void {
    const token = this.#next();
    if (token.text !== text) throw this.#syntax(token);
  }

  #symbol(text: string): void {
    const token = this.#next();
    if (token.kind !== "symbol" || token.text !== text) throw this.#syntax(token);
  }

  #next(): Token {
    return this.#tokens[Math.min(this.#at++, this.#tokens.length - 1)];
  }

  #peek(): Token {
    return this.#tokens[Math.min(this.#at, this.#tokens.length - 1)];
  }

  #syntax(token: Token): KqlError {
    return syntax(token.text, token);
  }
}

// Evaluation

/**
 * Runs `text` over the tables `resolve` finds by name. Throws a KqlError when the query is not
 * valid, or not in the subset the emulator runs. `random` picks the rows of `sample`.
 */
export function runKql(
  text: string,
  resolve: (table: string) => KqlTable | undefined,
  random: () => number = Math.random,
): KqlTable {
  const query = new Parser(text).parse();
  const source = resolve(query.table.text);
  if (!source) {
    const first = query.operators[0]?.operator.kind ?? "table";
    throw new KqlError(
      "semantic",
      `'${first}' operator: Failed to resolve table or column expression named '${query.table.text}'`,
    );
  }
  let table: KqlTable = { ...source, rows: source.rows.slice() };
  for (const { operator } of query.operators) table = apply(table, operator, random);
  return { ...table, name: "PrimaryResult" };
}

function apply(table: KqlTable, operator: Operator, random: () => number): KqlTable {
  const column = (name: string) => {
    const index = table.columns.findIndex((c) => c.name === name);
    if (index === -1) {
      throw new KqlError(
        "semantic",
        `'${operator.kind}' operator: Failed to resolve scalar expression named '${name}'`,
      );
    }
    return index;
  };
  switch (operator.kind) {
    case "where": {
      const test = compile(operator.predicate, column);
      return { ...table, rows: table.rows.filter(test) };
    }
    case "project": {
      const indexes = operator.columns.map(column);
      return {
        ...table,
        columns: indexes.map((i) => table.columns[i]),
        rows: table.rows.map((row) => indexes.map((i) => row[i])),
      };
    }
    case "take":
      return { ...table, rows: table.rows.slice(0, operator.count) };
    case "sample": {
      const rows = table.rows.slice();
      // A partial Fisher–Yates shuffle: `count` rows, each equally likely.
      const count = Math.min(operator.count, rows.length);
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(random() * (rows.length - i));
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
      return { ...table, rows: rows.slice(0, count) };
    }
    case "order": {
      const index = column(operator.column);
      const sign = operator.descending ? -1 : 1;
      const rows = table.rows.slice().sort((a, b) => sign * compareValues(a[index], b[index]));
      return { ...table, rows };
    }
    case "summarize":
      return summarize(table, operator, column);
  }
}

function summarize(
  table: KqlTable,
  operator: Extract<Operator, { kind: "summarize" }>,
  column: (name: string) => number,
): KqlTable {
  const keys = operator.by.map(column);
  const aggregates = operator.aggregates.map((aggregate) => {
    const index = aggregate.column === undefined ? -1 : column(aggregate.column);
    const type = index === -1 ? "long" : table.columns[index].type;
    if (aggregate.fn !== "count" && aggregate.fn !== "min" && aggregate.fn !== "max") {
      if (!["int", "long", "real"].includes(type)) {
        throw new KqlError(
          "semantic",
          `${aggregate.fn}(): argument #1 expected to be a numeric expression`,
        );
      }
    }
    const resultType: KqlType =
      aggregate.fn === "count" ? "long" : aggregate.fn === "avg" ? "real" : type;
    return { aggregate, index, resultType };
  });
  const groups = new Map<string, { key: KqlValue[]; rows: KqlValue[][] }>();
  for (const row of table.rows) {
    const key = keys.map((k) => row[k]);
    const id = JSON.stringify(key);
    const group = groups.get(id) ?? { key, rows: [] };
    group.rows.push(row);
    groups.set(id, group);
  }
  // Without `by`, an empty table still summarizes to one row.
  if (keys.length === 0 && groups.size === 0) groups.set("[]", { key: [], rows: [] });
  return {
    name: table.name,
    columns: [
      ...keys.map((k) => table.columns[k]),
      ...aggregates.map(({ aggregate, resultType }) => ({
        name: aggregate.name,
        type: resultType,
      })),
    ],
    rows: [...groups.values()].map((group) => [
      ...group.key,
      ...aggregates.map(({ aggregate, index }) => aggregateOf(aggregate, index, group.rows)),
    ]),
  };
}

function aggregateOf(aggregate: Aggregate, index: number, rows: KqlValue[][]): KqlValue {
  if (aggregate.fn === "count") return rows.length;
  const values = rows.map((row) => row[index]).filter((v): v is number => typeof v === "number");
  if (values.length === 0) return null;
  switch (aggregate.fn) {
    case "min":
      return Math.min(...values);
    case "max":
      return Math.max(...values);
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "avg":
      return values.reduce((a, b) => a + b, 0) / values.length;
    case "percentile": {
      // The value at the nearest rank, as percentile() answers a value of the column.
      const sorted = values.slice().sort((a, b) => a - b);
      const rank = Math.ceil(((aggregate.percent ?? 50) / 100) * sorted.length);
      return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }
  }
}

function compile(
  predicate: Predicate,
  column: (name: string) => number,
): (row: KqlValue[]) => boolean {
  switch (predicate.kind) {
    case "and": {
      const [l, r] = [compile(predicate.left, column), compile(predicate.right, column)];
      return (row) => l(row) && r(row);
    }
    case "or": {
      const [l, r] = [compile(predicate.left, column), compile(predicate.right, column)];
      return (row) => l(row) || r(row);
    }
    case "in": {
      const index = column(predicate.column);
      return (row) => predicate.values.some((v) => equal(row[index], v));
    }
    case "between": {
      const index = column(predicate.column);
      return (row) =>
        compareValues(row[index], predicate.low) >= 0 &&
        compareValues(row[index], predicate.high) <= 0;
    }
    case "compare": {
      const index = column(predicate.column);
      const { op, value } = predicate;
      return (row) => {
        const cell = row[index];
        if (op === "==") return equal(cell, value);
        if (op === "!=") return !equal(cell, value);
        if (cell === null || value === null) return false;
        const order = compareValues(cell, value);
        return op === "<"
          ? order < 0
          : op === "<="
            ? order <= 0
            : op === ">"
              ? order > 0
              : order >= 0;
      };
    }
  }
}

/** `==` on strings is case-sensitive in KQL. */
function equal(a: KqlValue, b: KqlValue): boolean {
  return a === b;
}

function compareValues(a: KqlValue, b: KqlValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : 1;
}
