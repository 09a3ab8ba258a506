// Watchkeeper dashboard behaviour: small, no build step. Charts are drawn by
// Watchkeeper.chart (uPlot), from JSON the server has already downsampled.
"use strict";
window.Watchkeeper = window.Watchkeeper || {};
