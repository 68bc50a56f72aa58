// MIME types as the WHATWG MIME Sniffing standard parses and serializes them,
// and the Fetch standard's "extract a MIME type" from Content-Type values:
// what body.blob() gives as the Blob's type.
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const quotedStringPattern = /^[\t\u0020-\u007E\u0080-\u00FF]*$/;
const httpWhitespace = /^[\t\n\r ]+|[\t\n\r ]+$/g;

export function parseMimeType(input) {
  const text = input.replace(httpWhitespace, "");
  let position = text.indexOf("/");
  if (position === -1) return null;
  const type = text.slice(0, position);
  if (!tokenPattern.test(type)) return null;
  let end = text.indexOf(";", position + 1);
  if (end === -1) end = text.length;
  const subtype = text.slice(position + 1, end).replace(/[\t\n\r ]+$/, "");
  if (!tokenPattern.test(subtype)) return null;
  const mime = { type: type.toLowerCase(), subtype: subtype.toLowerCase(), parameters: new Map() };
  position = end;
  while (position < text.length) {
    position++; // past ";"
    while (/[\t\n\r ]/.test(text[position] ?? "")) position++;
    let nameEnd = position;
    while (nameEnd < text.length && text[nameEnd] !== ";" && text[nameEnd] !== "=") nameEnd++;
    const name = text.slice(position, nameEnd).toLowerCase();
    position = nameEnd;
    if (position >= text.length) break;
    if (text[position] === ";") continue;
    position++; // past "="
    if (position >= text.length) break;
    let value;
    if (text[position] === '"') {
      [value, position] = collectQuotedString(text, position);
      while (position < text.length && text[position] !== ";") position++;
    } else {
      let valueEnd = text.indexOf(";", position);
      if (valueEnd === -1) valueEnd = text.length;
      value = text.slice(position, valueEnd).replace(/[\t\n\r ]+$/, "");
      position = valueEnd;
      if (value === "") continue;
    }
    if (name !== "" && tokenPattern.test(name) && quotedStringPattern.test(value) && !mime.parameters.has(name)) {
      mime.parameters.set(name, value);
    }
  }
  return mime;
}

// The value of an HTTP quoted string starting at `position` (a `"`), with
// backslash escapes removed, and the position after it.
function collectQuotedString(text, position) {
  let value = "";
  position++;
  while (position < text.length) {
    const char = text[position];
    if (char === '"') return [value, position + 1];
    if (char === "\\") {
      position++;
      if (position >= text.length) return [`${value}\\`, position];
    }
    value += text[position];
    position++;
  }
  return [value, position];
}

export function serializeMimeType(mime) {
  let text = `${mime.type}/${mime.subtype}`;
  for (const [name, value] of mime.parameters) {
    const shown = tokenPattern.test(value) ? value : `"${value.replace(/(["\\])/g, "\\$1")}"`;
    text += `;${name}=${shown}`;
  }
  return text;
}

// A header value split at commas that are not inside quoted strings.
function splitHeaderValue(value) {
  const values = [];
  let current = "";
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '"') {
      const [, end] = collectQuotedString(value, i);
      current += value.slice(i, end);
      i = end - 1;
    } else if (char === ",") {
      values.push(current.replace(httpWhitespace, ""));
      current = "";
    } else {
      current += char;
    }
  }
  values.push(current.replace(httpWhitespace, ""));
  return values;
}

// "Extract a MIME type" from a combined Content-Type value (or null): the last
// valid type wins, keeping an earlier charset when the essence is the same.
export function extractMimeType(contentType) {
  if (contentType === null) return null;
  let charset = null;
  let essence = null;
  let mime = null;
  for (const value of splitHeaderValue(contentType)) {
    const parsed = parseMimeType(value);
    if (parsed === null || `${parsed.type}/${parsed.subtype}` === "*/*") continue;
    mime = parsed;
    const parsedEssence = `${parsed.type}/${parsed.subtype}`;
    if (parsedEssence !== essence) {
      charset = null;
      if (parsed.parameters.has("charset")) charset = parsed.parameters.get("charset");
      essence = parsedEssence;
    } else if (!parsed.parameters.has("charset") && charset !== null) {
      parsed.parameters.set("charset", charset);
    }
  }
  return mime;
}
