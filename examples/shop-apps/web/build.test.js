const test = require("node:test");
const assert = require("node:assert");
const { page } = require("./build.js");

test("the page names the APIs as JSON strings", () => {
  const html = page({ PLATFORM_API_URL: 'https://api.example/"x' });
  assert.match(html, /const PLATFORM_API = "https:\/\/api.example\/\\"x";/);
});
