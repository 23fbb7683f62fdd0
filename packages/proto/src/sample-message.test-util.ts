// Builds messages with every field set, by walking descriptors: the
// round-trip tests use it so that no field of any message goes untested.
import {
  create,
  ScalarType,
  type DescField,
  type DescMessage,
  type Message,
  type MessageShape,
} from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";

function scalarSample(type: ScalarType, seed: number): unknown {
  switch (type) {
    case ScalarType.STRING:
      return `s${seed}-✓`;
    case ScalarType.BYTES:
      return new Uint8Array([seed & 0xff, 0, 0xff, 7]);
    case ScalarType.BOOL:
      return true;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return seed + 0.5;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return BigInt(-seed - 1);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return 0xffff_ffff_ffffn + BigInt(seed);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return -seed - 1;
    default:
      return seed + 1;
  }
}

/**
 * One fully populated message per choice of oneof member: the first sample
 * takes the first member of every oneof, the next the second, and so on, so
 * that together they cover every field.
 */
export function sampleMessages<Desc extends DescMessage>(desc: Desc): MessageShape<Desc>[] {
  const widest = Math.max(1, ...desc.oneofs.map((o) => o.fields.length));
  return Array.from({ length: widest }, (_, variant) => fill(desc, variant, 0) as MessageShape<Desc>);
}

function fill(desc: DescMessage, variant: number, depth: number): Message {
  const message = reflect(desc);
  for (const oneof of desc.oneofs) {
    const field = oneof.fields[variant % oneof.fields.length];
    if (field) setField(message, field, variant, depth);
  }
  for (const field of desc.fields) {
    if (!field.oneof) setField(message, field, variant, depth);
  }
  return message.message;
}

function setField(message: ReflectMessage, field: DescField, seed: number, depth: number): void {
  // Recursive types (policies hold policies) stop at an empty message.
  const nested = (desc: DescMessage): Message =>
    depth < 3 ? fill(desc, seed, depth + 1) : create(desc);
  switch (field.fieldKind) {
    case "scalar":
      message.set(field, scalarSample(field.scalar, field.number + seed));
      break;
    case "enum":
      message.set(field, field.enum.values[field.enum.values.length - 1]?.number ?? 0);
      break;
    case "message":
      message.set(field, reflect(field.message, nested(field.message)));
      break;
    case "list": {
      const list = message.get(field);
      for (let i = 0; i < 2; i++) {
        if (field.listKind === "scalar") list.add(scalarSample(field.scalar, field.number + i));
        else if (field.listKind === "enum") list.add(field.enum.values.at(-1)?.number ?? 0);
        else list.add(reflect(field.message, nested(field.message)));
      }
      break;
    }
    case "map": {
      const map = message.get(field);
      const key = field.mapKey === ScalarType.STRING ? "key-1" : scalarSample(field.mapKey, 1);
      if (field.mapKind === "scalar") map.set(key, scalarSample(field.scalar, field.number));
      else if (field.mapKind === "enum") map.set(key, field.enum.values.at(-1)?.number ?? 0);
      else map.set(key, reflect(field.message, nested(field.message)));
      break;
    }
  }
}
