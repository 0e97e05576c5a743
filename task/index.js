"use strict";

// src/ado/main.ts
var import_steps = require("./steps.js");
void (0, import_steps.mainStep)().then((exitCode) => process.exit(exitCode));
