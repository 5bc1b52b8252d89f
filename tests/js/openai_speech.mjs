// The official `openai` JavaScript SDK against a live server, as an app would call it.
// node tests/js/openai_speech.mjs BASE_URL OUT_DIR TEXT  -> audio files in OUT_DIR, a JSON report on stdout
import { writeFileSync } from "node:fs";
import OpenAI from "openai";

const [baseURL, out, input] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "any-key-works", maxRetries: 0 });
const report = {};

for (const format of ["mp3", "wav"]) {
  const response = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input, response_format: format });
  writeFileSync(`${out}/speech.${format}`, Buffer.from(await response.arrayBuffer()));
}

const streamed = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input, response_format: "pcm" });
const pieces = [];
for await (const piece of streamed.body) pieces.push(Buffer.from(piece));
writeFileSync(`${out}/speech.pcm`, Buffer.concat(pieces));
report.pcm_pieces = pieces.length;

report.models = (await client.models.list()).data.map((model) => model.id);

try {
  await client.audio.speech.create({ model: "tts-1", voice: "nobody-by-that-name", input: "Hi." });
} catch (error) {
  report.error = { class: error.constructor.name, status: error.status, param: error.param, code: error.code };
}
console.log(JSON.stringify(report));
