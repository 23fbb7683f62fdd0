// Our .proto files agree with the wire facts of ../shared/spec/xmtp-node-api.md:
// every field declaration the spec writes down (name, number, type, repeated)
// and every enum value exists in the generated descriptors. The spec is read
// at test time, so it is the spec of the day that is checked.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { sharedPath, skipUnlessShared } from "@parley/testkit";
import { allFiles } from "./index.js";

const SPEC = "spec/xmtp-node-api.md";

interface FieldFact {
  readonly message: string;
  readonly name: string;
  readonly number: number;
  readonly type: string;
  readonly repeated: boolean;
  readonly line: number;
}

interface EnumFact {
  readonly enumName: string;
  readonly value: string;
  readonly number: number;
  readonly line: number;
}

const scalarNames: Record<string, ScalarType> = {
  string: ScalarType.STRING,
  bytes: ScalarType.BYTES,
  bool: ScalarType.BOOL,
  uint64: ScalarType.UINT64,
  uint32: ScalarType.UINT32,
  int64: ScalarType.INT64,
  int32: ScalarType.INT32,
};

/** Reads the declarations in one code span, e.g. `Filter { bytes group_id = 1 }`. */
function parseSpan(
  span: string,
  context: string | undefined,
  line: number,
  fields: FieldFact[],
  enums: EnumFact[],
): void {
  const tokens = span.match(/[\w.]+|[{};=]/g) ?? [];
  // Each open block: a message name, an enum name, or "oneof" (same message).
  const stack: { kind: "message" | "enum" | "oneof"; name: string }[] = [];
  const current = () => [...stack].reverse().find((b) => b.kind !== "oneof")?.name ?? context;
  let statement: string[] = [];
  for (const token of tokens) {
    if (token === "{") {
      const [first, second] = statement;
      if (first === "message" && second) stack.push({ kind: "message", name: second });
      else if (first === "enum" && second) stack.push({ kind: "enum", name: second });
      else if (first === "oneof") stack.push({ kind: "oneof", name: "" });
      else if (first && /^[A-Z]/.test(first)) {
        const outer = current();
        stack.push({ kind: "message", name: outer ? `${outer}.${first}` : first });
      }
      statement = [];
    } else if (token === "}" || token === ";") {
      statement = [];
      if (token === "}") stack.pop();
    } else if (/^\d+$/.test(token) && statement.at(-1) === "=") {
      const words = statement.slice(0, -1);
      const top = stack.at(-1);
      const inEnum = top?.kind === "enum" || (top === undefined && context?.startsWith("enum "));
      if (inEnum && words.length === 1 && /^[A-Z][A-Z0-9_]*$/.test(words[0] ?? "")) {
        const enumName = top?.kind === "enum" ? top.name : (context ?? "").slice(5);
        enums.push({ enumName, value: words[0] ?? "", number: Number(token), line });
      } else if (!inEnum && words.length >= 2) {
        const repeated = words[0] === "repeated";
        const rest = words.filter((w) => w !== "repeated" && w !== "optional");
        const message = current();
        if (message && rest.length === 2) {
          fields.push({ message, type: rest[0] ?? "", name: rest[1] ?? "", number: Number(token), repeated, line });
        }
      }
      statement = [];
    } else {
      statement.push(token);
    }
  }
}

/** Every field and enum value the spec declares, with the line it is on. */
function readSpecFacts(markdown: string): { fields: FieldFact[]; enums: EnumFact[] } {
  const fields: FieldFact[] = [];
  const enums: EnumFact[] = [];
  let columnTable: string | undefined;
  markdown.split("\n").forEach((text, index) => {
    const line = index + 1;
    const spans = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "");
    if (!text.startsWith("|")) {
      columnTable = undefined;
      if (/^- `(message|enum) /.test(text)) spans.forEach((s) => parseSpan(s, undefined, line, fields, enums));
      return;
    }
    const cells = text.split("|").slice(1, -1).map((c) => c.trim());
    // "| GroupMessage.V1 field | # | type |" opens a table of one field a row.
    if (cells[1] === "#") {
      columnTable = (cells[0] ?? "").replace(/ field$/, "");
      return;
    }
    if (columnTable && /^\d+$/.test(cells[1] ?? "")) {
      const typeWords = (cells[2] ?? "").replace(/`.*$/, "").split(/[\s(]+/).filter(Boolean);
      const repeated = typeWords[0] === "repeated";
      const type = (repeated ? typeWords[1] : typeWords[0])?.replace(/\.$/, "") ?? "";
      fields.push({ message: columnTable, name: cells[0] ?? "", number: Number(cells[1]), type, repeated, line });
      spans.forEach((s) => parseSpan(s, columnTable, line, fields, enums));
      return;
    }
    const declared = spans.filter((s) => /=\s*\d/.test(s));
    if (declared.length === 0) return;
    const head = (cells[0] ?? "").replace(/\s*\(.*\)\s*$/, "");
    const context = /^(enum )?[A-Z][\w.]*$/.test(head) ? head : undefined;
    declared.forEach((s) => parseSpan(s, context, line, fields, enums));
  });
  return { fields, enums };
}

const descriptors = allFiles.flatMap((file) => [...nestedTypes(file)]);

function byName<T extends DescMessage | DescEnum>(kind: T["kind"], dotted: string): T[] {
  return descriptors.filter(
    (d): d is T => d.kind === kind && (d.typeName === dotted || d.typeName.endsWith(`.${dotted}`)),
  );
}

function typeMatches(field: DescField, type: string): boolean {
  const last = type.split(".").at(-1) ?? type;
  const scalar = scalarNames[type];
  switch (field.fieldKind) {
    case "scalar":
      return scalar === field.scalar;
    case "list":
      if (field.listKind === "scalar") return scalar === field.scalar;
      if (field.listKind === "enum") return field.enum.name === last;
      return field.message.name === last;
    case "enum":
      return field.enum.name === last;
    case "message":
      return field.message.name === last;
    case "map":
      return false;
  }
}

describe(`protos against ${SPEC}`, { skip: skipUnlessShared(SPEC) }, () => {
  const { fields, enums } = readSpecFacts(readFileSync(sharedPath(SPEC) ?? "", "utf8"));

  it("read the spec's declarations", () => {
    console.log(`# checked ${fields.length} field declarations and ${enums.length} enum values`);
    assert.ok(fields.length >= 150, `only ${fields.length} field declarations found`);
    assert.ok(enums.length >= 15, `only ${enums.length} enum values found`);
  });

  it("have every field the spec declares, with its number and type", () => {
    const wrong = fields.filter((fact) => {
      const candidates = byName<DescMessage>("message", fact.message);
      return !candidates.some((message) => {
        const field = message.fields.find((f) => f.name === fact.name);
        return (
          field !== undefined &&
          field.number === fact.number &&
          typeMatches(field, fact.type) &&
          (field.fieldKind === "list") === fact.repeated
        );
      });
    });
    assert.deepEqual(
      wrong.map((f) => `line ${f.line}: ${f.message}.${f.name} = ${f.number} (${f.repeated ? "repeated " : ""}${f.type})`),
      [],
    );
  });

  it("have every enum value the spec declares", () => {
    const wrong = enums.filter(
      (fact) =>
        !byName<DescEnum>("enum", fact.enumName).some((e) =>
          e.values.some((v) => v.name === fact.value && v.number === fact.number),
        ),
    );
    assert.deepEqual(wrong.map((f) => `line ${f.line}: ${f.enumName}.${f.value} = ${f.number}`), []);
  });
});
