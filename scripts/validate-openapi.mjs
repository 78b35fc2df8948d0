// npm run openapi:validate -- <file or URL>: validates an OpenAPI document with a real validator
// (@apidevtools/swagger-parser: schema and structure, OpenAPI 3.1 included). Exits 1 when invalid.
import SwaggerParser from "@apidevtools/swagger-parser";

const source = process.argv[2];
if (!source) {
  console.error("usage: npm run openapi:validate -- <openapi.json path or URL>");
  process.exit(2);
}
try {
  const api = await SwaggerParser.validate(source);
  const operations = Object.values(api.paths ?? {}).reduce((n, item) => n + Object.keys(item).length, 0);
  console.log(`openapi: valid ${api.openapi} document, ${Object.keys(api.paths ?? {}).length} paths, ${operations} operations`);
} catch (err) {
  console.error(`openapi: INVALID: ${err.message}`);
  process.exit(1);
}
