// SPDX-License-Identifier: LGPL-2.1-or-later
// Decodes a FIT file with Garmin's FIT SDK (@garmin/fitsdk) and prints one
// JSON object: {"isFIT", "integrity", "errors": [...], "profileVersion",
// "messages": {"recordMesgs": [...], "lapMesgs": [...], ...}}, with dates as
// ISO strings. Usage: node fit-decode.mjs FILE   (NODE_PATH is not used by ES
// modules: run it from a folder whose node_modules holds @garmin/fitsdk, or
// set FITSDK to the package's src/index.js).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const sdkPath = process.env.FITSDK;
const { Decoder, Stream } = sdkPath ? await import(pathToFileURL(sdkPath).href)
    : await import('@garmin/fitsdk');

const bytes = readFileSync(process.argv[2]);
const stream = Stream.fromBuffer(bytes);
const isFIT = Decoder.isFIT(stream);
const decoder = new Decoder(stream);
const integrity = decoder.checkIntegrity();
const { messages, errors, profileVersion } = decoder.read({
    applyScaleAndOffset: true,
    expandSubFields: true,
    expandComponents: true,
    convertTypesToStrings: true,
    convertDateTimesToDates: true,
    includeUnknownData: true,
    mergeHeartRates: false,
});
console.log(JSON.stringify({
    isFIT,
    integrity,
    errors: errors.map((e) => String(e && e.message ? e.message : e)),
    profileVersion,
    messages,
}));
