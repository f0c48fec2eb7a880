import { z } from 'zod';
import { RealtimeEnd, RealtimeEvent, RealtimeResync } from '@wacrm/contracts';
import { STREAM_ID } from '../data-access/realtime.js';

type Json = Record<string, unknown>;

const pascal = (type: string) =>
  type
    .split('.')
    .map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`)
    .join('');

/**
 * GET /api/stream's frames as OpenAPI components, generated from the contracts' zod schemas (their
 * one owner): `RealtimeEvent` (a oneOf of one schema per event type), the `resync` and `end`
 * payloads, and `RealtimeFrame`, one SSE frame as `{ id, event, data }` with `data` parsed from
 * its JSON. An event's frame is named after its `type` (as stream.routes writes it); only event
 * frames carry an `id`.
 */
export function streamDocument(): { schemas: Record<string, Json>; frame: Json } {
  const registry = z.registry<{ id: string }>();
  const types = RealtimeEvent.options.map((variant) => {
    const type = variant.shape.type.value;
    registry.add(variant, { id: `Realtime${pascal(type)}` });
    return type;
  });
  registry.add(RealtimeEvent, { id: 'RealtimeEvent' });
  registry.add(RealtimeResync, { id: 'RealtimeResync' });
  registry.add(RealtimeEnd, { id: 'RealtimeEnd' });
  const eventFrame = z
    .object({
      id: z
        .string()
        .regex(STREAM_ID)
        .describe('The event id; send it back as Last-Event-ID to resume after it.'),
      event: z.enum(types).describe("The event's type (the same as `data.type`)."),
      data: RealtimeEvent,
    })
    .describe('An event of the accounts the caller may see.');
  registry.add(eventFrame, { id: 'RealtimeEventFrame' });
  const frame = z
    .discriminatedUnion('event', [
      eventFrame,
      z.object({ event: z.literal('resync'), data: RealtimeResync }),
      z.object({ event: z.literal('end'), data: RealtimeEnd }),
    ])
    .describe(
      'One Server-Sent Events frame (`id:`, `event:` and `data:` lines, `data` being JSON): an event named after its type, `resync` (events may have been missed: reload from the API) or `end` (the stream closes because its credential changed; only events carry an id). The stream also writes `retry: 3000` first and `: ping` comments while idle.',
    );
  registry.add(frame, { id: 'RealtimeFrame' });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return {
    schemas,
    frame: { $ref: '#/components/schemas/RealtimeFrame' },
  };
}
