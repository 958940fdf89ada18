/** Text and attribute values escaped for XML (SVG, MusicXML): `& < > " '` as numeric references. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
