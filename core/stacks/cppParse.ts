// The real C++ parser (tree-sitter-cpp through web-tree-sitter), used only where the cheap
// scanner would have to guess: the lambdas inside one function body. It parses a slice of a
// file (one function), lazily, so indexing never pays for it.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Language, type Node, Parser } from 'web-tree-sitter';

let parserPromise: Promise<Parser> | undefined;

function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((p) => existsSync(p));
}

/** dist/ holds both wasm files next to the bundle; sources run from the repository's node_modules. */
function wasmPaths(): { runtime: string; cpp: string } {
  const roots = [__dirname, path.resolve(__dirname, '..', '..'), process.cwd()];
  const runtime = firstExisting(
    roots.flatMap((r) => [
      path.join(r, 'tree-sitter.wasm'),
      path.join(r, 'node_modules/web-tree-sitter/tree-sitter.wasm'),
    ]),
  );
  const cpp = firstExisting(
    roots.flatMap((r) => [
      path.join(r, 'tree-sitter-cpp.wasm'),
      path.join(r, 'node_modules/tree-sitter-cpp/tree-sitter-cpp.wasm'),
    ]),
  );
  if (!runtime || !cpp)
    throw new Error('tree-sitter wasm files not found (expected next to the bundle or in node_modules)');
  return { runtime, cpp };
}

export function cppParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    const { runtime, cpp } = wasmPaths();
    await Parser.init({ locateFile: () => runtime });
    const language = await Language.load(cpp);
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

export interface LambdaInfo {
  /** 0-based line and column of the lambda's `[` within the parsed slice. */
  line: number;
  column: number;
  /** Number of declared parameters; 0 for `[]{}`. */
  paramCount: number;
  paramTypes: string[];
  /** Names of every function the body calls: `onFrameReceived`, `addListener`, `cb_`. */
  calls: Set<string>;
}

/** Lambdas of a piece of C++ (one function definition), in source order. */
export async function lambdasIn(source: string): Promise<LambdaInfo[]> {
  const parser = await cppParser();
  const tree = parser.parse(source);
  if (!tree) return [];
  try {
    const out: LambdaInfo[] = [];
    for (const node of tree.rootNode.descendantsOfType('lambda_expression')) {
      if (!node) continue;
      const declarator = node.childForFieldName('declarator');
      const params = declarator?.childForFieldName('parameters');
      const paramTypes = (params?.namedChildren ?? [])
        .filter((p): p is Node => !!p && p.type.endsWith('parameter_declaration'))
        .map((p) => p.childForFieldName('type')?.text ?? p.text);
      const calls = new Set<string>();
      const body = node.childForFieldName('body');
      for (const call of body?.descendantsOfType('call_expression') ?? []) {
        const fn = call?.childForFieldName('function');
        const name = fn ? calleeName(fn) : undefined;
        if (name) calls.add(name);
      }
      out.push({
        line: node.startPosition.row,
        column: node.startPosition.column,
        paramCount: paramTypes.length,
        paramTypes,
        calls,
      });
    }
    return out;
  } finally {
    tree.delete();
  }
}

function calleeName(fn: Node): string | undefined {
  switch (fn.type) {
    case 'identifier':
    case 'field_identifier':
      return fn.text;
    case 'field_expression':
      return fn.childForFieldName('field')?.text;
    case 'qualified_identifier': {
      const name = fn.childForFieldName('name');
      return name ? calleeName(name) : undefined;
    }
    case 'template_function':
    case 'template_method':
      return fn.childForFieldName('name')?.text;
    case 'parenthesized_expression':
      return fn.namedChildren[0] ? calleeName(fn.namedChildren[0]) : undefined;
    default:
      return undefined;
  }
}

/**
 * Parameter types of a parameter list as the compiler sees them (name and default value
 * dropped, `const`, references and pointers kept), normalized for comparison with a frame's
 * demangled types. Used only when the scanner's ranking leaves overloads tied.
 */
export async function parameterTypes(params: string): Promise<string[]> {
  const parser = await cppParser();
  const tree = parser.parse(`void __fieldtrace(${params});`);
  if (!tree) return [];
  try {
    const list = tree.rootNode.descendantsOfType('parameter_list')[0];
    const out: string[] = [];
    for (const p of list?.namedChildren ?? []) {
      if (!p || !/parameter_declaration$/.test(p.type)) continue;
      const type = p.childForFieldName('type')?.text ?? '';
      const qualifiers = p.namedChildren.filter((c) => c?.type === 'type_qualifier').map((c) => c!.text);
      let declarator = p.childForFieldName('declarator');
      let suffix = '';
      // Walk the declarator down to the name: what wraps it (`*`, `&`, `&&`, `[]`) is part of the type.
      while (declarator) {
        if (declarator.type === 'pointer_declarator' || declarator.type === 'abstract_pointer_declarator')
          suffix += '*';
        else if (
          declarator.type === 'reference_declarator' ||
          declarator.type === 'abstract_reference_declarator'
        ) {
          suffix += declarator.text.trimStart().startsWith('&&') ? '&&' : '&';
        } else if (declarator.type === 'array_declarator') suffix += '*';
        declarator =
          declarator.childForFieldName('declarator') ??
          declarator.namedChildren.find((c) => c && /declarator$/.test(c.type)) ??
          null;
      }
      out.push(normalizeType(`${qualifiers.includes('const') ? 'const ' : ''}${type}${suffix}`));
    }
    return out;
  } finally {
    tree.delete();
  }
}

/** `std::__1::shared_ptr<Envoy::Foo const> const&` and `const std::shared_ptr<const Foo>&` compare equal. */
export function normalizeType(t: string): string {
  const consts = (t.match(/\bconst\b/g) ?? []).length;
  const core = t
    .replace(/\bconst\b|\bvolatile\b|\bstruct\b|\bclass\b|\btypename\b/g, '')
    .replace(/\bstd::(__1::|__cxx11::)?/g, 'std::')
    .replace(/\s+/g, '');
  // Keep only the last component of each qualified name: frames spell Envoy::Network::X, sources X or Network::X.
  return `${consts ? 'c' : ''}${core.replace(/(?:\w+::)+(\w)/g, '$1')}`;
}
