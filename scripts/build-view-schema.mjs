// Writes dist/view.schema.json: the JSON Schema of the node view, generated from the TypeScript
// types the renderer itself uses (src/render/view/view-types.ts), so schema and renderer cannot drift.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createGenerator } from 'ts-json-schema-generator';

const schema = createGenerator({ path: 'src/render/view/view-types.ts', tsconfig: 'tsconfig.json', type: 'NodeView', expose: 'export', topRef: true, skipTypeCheck: true }).createSchema('NodeView');
schema.$id = 'https://bird-confd.invalid/view.schema.json';
schema.title = 'bird-confd node view';
mkdirSync('dist', { recursive: true });
writeFileSync('dist/view.schema.json', `${JSON.stringify(schema, null, 2)}\n`);
