"use strict";

// src/ado/post.ts
var import_steps = require("./steps.js");
void (0, import_steps.postStep)().then((exitCode) => process.exit(exitCode));
