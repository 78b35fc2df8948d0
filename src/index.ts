/** Worker entry: the HTTP API, and the Durable Object class it routes each persona to. */
import { app } from "./http/app";

export { PersonaSession } from "./persona/object";

export default app satisfies ExportedHandler<Env>;
