// build.js: renders the shop's front page into dist/index.html, with the
// API URLs of the environment it is built for.
const fs = require("fs");

const page = (env) => `<!doctype html>
<title>modelshop</title>
<h1>Upload a model, get a price</h1>
<script>const PLATFORM_API = ${JSON.stringify(env.PLATFORM_API_URL || "")};
const TEAMS_API = ${JSON.stringify(env.TEAMS_API_URL || "")};</script>
`;

module.exports = { page };

if (require.main === module) {
  fs.mkdirSync("dist", { recursive: true });
  fs.writeFileSync("dist/index.html", page(process.env));
  console.log("built dist/index.html");
}
