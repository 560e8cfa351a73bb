// Writes dist/view.schema.json: the JSON Schema of the node view, generated from the TypeScript
// types the renderer itself uses (src/render/view/view-types.ts), so schema and renderer cannot drift.
// `x-bird-confd-profiles` lists, per output profile, its view type and the input fields it renders
// and leaves out, from the one table in src/render/input-fields.ts (compiled to dist/ just before).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createGenerator } from 'ts-json-schema-generator';
import { profileInputs } from '../dist/render/input-fields.js';

const schema = createGenerator({ path: 'src/render/view/view-types.ts', tsconfig: 'tsconfig.json', type: 'NodeView', expose: 'export', topRef: true, skipTypeCheck: true }).createSchema('NodeView');
schema.$id = 'https://bird-confd.invalid/view.schema.json';
schema.title = 'bird-confd node view';
const profiles = {};
for (const [version, inputs] of Object.entries(profileInputs())) {
  const view = `#/definitions/NodeView${version.replace('.', '')}`;
  if (!schema.definitions?.[view.slice('#/definitions/'.length)]) throw new Error(`the schema has no ${view} for profile ${version}`);
  profiles[version] = { view, ...inputs };
}
schema['x-bird-confd-profiles'] = profiles;
schema.description = `The view of one node, in the shape of its output profile (told apart by calicoVersion): ${Object.entries(profiles).map(([v, p]) => `${v}: ${p.view.slice('#/definitions/'.length)}`).join(', ')}. x-bird-confd-profiles lists each profile's view and the input fields it renders and leaves out.`;
mkdirSync('dist', { recursive: true });
writeFileSync('dist/view.schema.json', `${JSON.stringify(schema, null, 2)}\n`);
