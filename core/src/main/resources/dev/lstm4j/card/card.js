// Draws the LSTM reference card from the trace embedded in #card-data. No network, no libraries.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('card-data').textContent, function (k, v) {
    // JSON has no NaN or infinities: the trace writes them as strings inside number arrays
    if (typeof v === 'string' && /^\d+$/.test(k)) {
      return v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
    }
    return v;
  });
  var NS = 'http://www.w3.org/2000/svg';
  var ROWS = 6;
  var C = {forget: '#d1495b', input: '#2f6fb5', cand: '#3f9b4f', output: '#8a4fbf', cell: '#444444', wire: '#5a5a5a', muted: '#888888'};
  var UNIT = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#b8860b'];
  // gradients flow backwards: along c (long-term memory) and along h (short-term memory)
  var GC = '#e6550d', GH2 = '#2b7bba';
  var S = {step: 0, layer: 0, dir: 0, batch: 0, unit: 0, view: 'forward'};

  // geometry of the cell diagram (viewBox 1240 x 850)
  var HY = 160, BUS = 660, GY = 420, GH = 44, GW = 78;
  var FX = 240, IX = 450, GX = 660, OX = 870, MX = 555, MY = 320;
  var TX = 1000, TY = 250, HOY = 350, HY2 = 540, XX = 160;

  function el(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    for (var a in attrs) { if (attrs[a] !== undefined && attrs[a] !== null) { e.setAttribute(a, attrs[a]); } }
    if (text !== undefined) { e.textContent = text; }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function fmt(v) {
    if (v !== v) { return 'nan'; }
    if (v === Infinity) { return 'inf'; }
    if (v === -Infinity) { return '-inf'; }
    var a = Math.abs(v);
    if (a === 0 || (a >= 1e-4 && a < 1e4)) { return v.toFixed(6); }
    return v.toExponential(3);
  }

  function key() { return S.layer + ',' + S.dir + ',' + S.batch; }
  function series() { return D.series[key()]; }
  // the backward view's gradients for the chosen layer/direction/row, or undefined
  function bseries() { return D.backward ? D.backward.series[key()] : undefined; }
  function backwardView() { return S.view === 'backward' && !!D.backward; }
  function hh() { return D.proj_size > 0 ? D.proj_size : D.hidden_size; }
  function layerIn(layer) { return layer === 0 ? D.input_size : D.directions * hh(); }
  function widest() { return Math.max(layerIn(S.layer), D.hidden_size, hh()); }

  // ---- parts of the diagram ----

  function wire(svg, d, cls, arrow) {
    el('path', {d: d, 'class': 'wire ' + (cls || ''), 'marker-end': arrow ? 'url(#arrow-' + (cls || 'plain') + ')' : null}, svg);
  }

  function gate(svg, x, symbol, name, letter, color) {
    var g = el('g', {'class': 'gate'}, svg);
    el('rect', {x: x - GW / 2, y: GY, width: GW, height: GH, rx: 8, fill: color}, g);
    el('text', {x: x, y: GY + 29, 'font-size': symbol === 'σ' ? 24 : 19}, g, symbol);
    el('text', {x: x + 8, y: GY - 9, 'class': 'label', fill: color, 'text-anchor': 'start', 'font-size': 14}, svg, name);
    el('text', {x: x + GW / 2 - 9, y: GY + GH - 6, 'font-size': 13, 'font-style': 'italic', fill: '#fff', 'text-anchor': 'end'}, g, letter);
  }

  function op(svg, x, y, symbol, color) {
    var g = el('g', {'class': 'op'}, svg);
    el('circle', {cx: x, cy: y, r: 15, stroke: color}, g);
    el('text', {x: x, y: y + 7, 'font-size': 21, fill: color}, g, symbol);
  }

  /**
   * A box of values: a title, then one row per unit in the current window and one column per variable. Each
   * value is a text.v carrying data-var, data-k and data-value (the exact number) for tests.
   */
  function panel(svg, x, y, title, color, cols, t, opts) {
    opts = opts || {};
    var s = opts.src || series();
    var size = 0;
    cols.forEach(function (c) { var a = s[c.v] && s[c.v][t]; if (a) { size = Math.max(size, a.length); } });
    var colW = opts.colW || 84;
    // a shorter vector than the unit window shows its own last window
    var from = size === 0 || S.unit < size ? S.unit : Math.floor((size - 1) / ROWS) * ROWS, to = Math.min(size, from + ROWS);
    var w = Math.max(26 + colW * cols.length, 16 + 7 * title.length + (size > ROWS ? 62 : 0));
    colW = (w - 26) / cols.length;
    var head = cols.some(function (c) { return c.head; }) ? 14 : 0;
    var rows = Math.max(1, to - from);
    var h = 24 + head + rows * 17 + 4;
    if (opts.center) { x = x - w / 2; }
    if (opts.above) { y = y - h; }
    var padded = cols.every(function (c) { return !(s[c.v] && s[c.v][t]); });
    var g = el('g', {'class': 'panel' + (padded ? ' pad' : ''), 'data-panel': cols.map(function (c) { return c.v; }).join(' ')}, svg);
    el('rect', {'class': 'bg', x: x, y: y, width: w, height: h, rx: 6, stroke: color}, g);
    var tt = el('text', {'class': 't', x: x + 8, y: y + 16, fill: color}, g, title);
    if (size > ROWS) {
      el('tspan', {fill: C.muted, 'font-weight': 400, 'font-size': 10.5}, tt, '  ' + from + '–' + (to - 1) + ' of ' + size);
    }
    if (head) {
      cols.forEach(function (c, j) { el('text', {'class': 'h', x: x + 22 + colW * (j + 1), y: y + 30}, g, c.head || ''); });
    }
    if (padded) {
      el('text', {'class': 'n', x: x + 8, y: y + 24 + head + 13}, g, 'padding');
      return {x: x, y: y, w: w, h: h};
    }
    for (var k = from; k < to; k++) {
      var ry = y + 24 + head + (k - from) * 17 + 12;
      el('text', {'class': 'n', x: x + 8, y: ry, fill: UNIT[(k - from) % UNIT.length]}, g, String(k));
      cols.forEach(function (c, j) {
        var arr = s[c.v] && s[c.v][t];
        if (!arr || k >= arr.length) { return; }
        var v = arr[k];
        var right = x + 22 + colW * (j + 1);
        if (c.range && v === v) {
          // a bar for how open a gate is (σ in 0..1) or where a tanh sits (-1..1)
          var bw = colW - 10, left = right - bw;
          var x0 = c.range === 'sigmoid' ? left : left + bw / 2;
          var x1 = c.range === 'sigmoid' ? left + v * bw : left + bw / 2 + v * bw / 2;
          el('rect', {'class': 'bar', x: Math.min(x0, x1), y: ry + 2.5, width: Math.abs(x1 - x0), height: 2.5, fill: color}, g);
        }
        var tv = el('text', {'class': 'v', x: right, y: ry, 'data-var': c.v, 'data-k': k, 'data-value': String(v)}, g, fmt(v));
        el('title', {}, tv, (opts.src ? '∂L/∂' : '') + c.v + '[' + k + '] = ' + String(v));
      });
    }
    return {x: x, y: y, w: w, h: h};
  }

  function arrows(svg) {
    var defs = el('defs', {}, svg);
    [['plain', C.wire], ['c', C.cell], ['forget', C.forget], ['input', C.input], ['cand', C.cand], ['output', C.output],
      ['grad-c', GC], ['grad-h', GH2]].forEach(function (p) {
      var m = el('marker', {id: 'arrow-' + p[0], viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 11, markerHeight: 11,
        markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse'}, defs);
      el('path', {d: 'M0,0 L10,5 L0,10 z', fill: p[1]}, m);
    });
  }

  function drawCell() {
    var svg = document.getElementById('cell');
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    arrows(svg);
    var back = backwardView();
    svg.setAttribute('class', back ? 'backward' : 'forward');
    skeleton(svg);
    if (back) { backwardValues(svg); } else { forwardValues(svg); }
  }

  // the cell itself: wires, operations, gates and the labels at its edges
  function skeleton(svg) {
    el('rect', {'class': 'body', x: 110, y: 80, width: 1050, height: 650, rx: 26}, svg);
    var proj = D.proj_size > 0;

    // wires: memory along the top, h_{t-1} and x_t along the bottom, each gate's output upwards
    wire(svg, 'M20,' + HY + ' H1228', 'c', true);
    wire(svg, 'M' + TX + ',' + HY + ' V' + (TY - 18), 'c', true);
    wire(svg, 'M20,' + BUS + ' H' + OX, '');
    wire(svg, 'M' + XX + ',840 V' + BUS, '');
    [[FX, 'forget'], [IX, 'input'], [GX, 'cand'], [OX, 'output']].forEach(function (p) {
      wire(svg, 'M' + p[0] + ',' + BUS + ' V' + (GY + GH), '', true);
    });
    wire(svg, 'M' + FX + ',' + GY + ' V' + (HY + 16), 'forget', true);
    wire(svg, 'M' + IX + ',' + GY + ' V' + MY + ' H' + (MX - 16), 'input', true);
    wire(svg, 'M' + GX + ',' + GY + ' V' + MY + ' H' + (MX + 16), 'cand', true);
    wire(svg, 'M' + MX + ',' + (MY - 15) + ' V' + (HY + 16), 'input', true);
    wire(svg, 'M' + OX + ',' + GY + ' V' + HOY + ' H' + (TX - 16), 'output', true);
    wire(svg, 'M' + TX + ',' + (TY + 18) + ' V' + (HOY - 16), '', true);
    wire(svg, 'M' + TX + ',' + (HOY + 15) + ' V' + HY2 + ' H1228', '', true);

    // operations
    op(svg, FX, HY, '×', C.forget);
    op(svg, MX, HY, '+', C.cell);
    op(svg, MX, MY, '×', C.input);
    op(svg, TX, HOY, '×', C.output);
    var th = el('g', {'class': 'op'}, svg);
    el('ellipse', {cx: TX, cy: TY, rx: 31, ry: 17, stroke: C.cell}, th);
    el('text', {x: TX, y: TY + 5, 'font-size': 14, fill: C.cell}, th, 'tanh');
    if (proj) {
      var pr = el('g', {'class': 'op'}, svg);
      el('rect', {x: TX + 62, y: HY2 - 19, width: 66, height: 38, rx: 6, stroke: C.wire}, pr);
      el('text', {x: TX + 95, y: HY2 + 6, 'font-size': 15, fill: C.wire, 'font-weight': 600}, pr, 'W_hr');
    }
    gate(svg, FX, 'σ', 'forget', 'f', C.forget);
    gate(svg, IX, 'σ', 'input · ignore', 'i', C.input);
    gate(svg, GX, 'tanh', 'candidate · learn', 'g', C.cand);
    gate(svg, OX, 'σ', 'output', 'o', C.output);

    // labels at the edges
    el('text', {'class': 'label big', x: 24, y: HY - 10, fill: C.cell}, svg, 'cₜ₋₁');
    el('text', {'class': 'label big', x: 1226, y: HY - 10, fill: C.cell, 'text-anchor': 'end'}, svg, 'cₜ');
    el('text', {'class': 'label big', x: 24, y: BUS - 10}, svg, 'hₜ₋₁');
    el('text', {'class': 'label big', x: 1226, y: HY2 - 10, 'text-anchor': 'end'}, svg, 'hₜ');
    el('text', {'class': 'label big', x: XX - 8, y: 838, 'text-anchor': 'end'}, svg, 'xₜ');
  }

  function forwardValues(svg) {
    var t = S.step, s = series();
    var proj = D.proj_size > 0;
    if (!s) { return; }
    // values at step t, next to what computes them
    panel(svg, 20, HY + 16, 'cₜ₋₁', C.cell, [{v: 'c_prev'}], t);
    panel(svg, 20, BUS + 14, 'hₜ₋₁', C.wire, [{v: 'h_prev'}], t);
    panel(svg, XX + 16, BUS + 14, S.layer === 0 ? 'xₜ  input' : 'xₜ  from layer ' + (S.layer - 1), C.wire, [{v: 'x'}], t);
    var gc = {center: true};
    panel(svg, FX, GY + GH + 12, 'forget', C.forget, [{v: 'f_pre', head: 'z'}, {v: 'f', head: 'f = σ(z)', range: 'sigmoid'}], t, gc);
    panel(svg, IX, GY + GH + 12, 'input · ignore', C.input, [{v: 'i_pre', head: 'z'}, {v: 'i', head: 'i = σ(z)', range: 'sigmoid'}], t, gc);
    panel(svg, GX, GY + GH + 12, 'candidate · learn', C.cand, [{v: 'g_pre', head: 'z'}, {v: 'g', head: 'g = tanh(z)', range: 'tanh'}], t, gc);
    panel(svg, OX, GY + GH + 12, 'output', C.output, [{v: 'o_pre', head: 'z'}, {v: 'o', head: 'o = σ(z)', range: 'sigmoid'}], t, gc);
    panel(svg, FX + 14, HY + 20, 'f ⊙ cₜ₋₁  kept', C.forget, [{v: 'f_c_prev'}], t, {colW: 96});
    panel(svg, MX + 14, HY + 20, 'i ⊙ g  written', C.input, [{v: 'i_g'}], t, {colW: 90});
    panel(svg, MX + 30, HY - 8, 'cₜ = f⊙cₜ₋₁ + i⊙g', C.cell, [{v: 'c'}], t, {above: true, colW: 110});
    panel(svg, TX + 38, TY - 56, 'tanh(cₜ)', C.cell, [{v: 'tanh_c', range: 'tanh'}], t);
    panel(svg, TX + 26, HOY + 22, proj ? 'o ⊙ tanh(cₜ)' : 'hₜ = o ⊙ tanh(cₜ)', C.output, [{v: 'h'}], t, {colW: 96});
    if (proj) {
      panel(svg, TX + 26, HY2 + 30, 'hₜ = W_hr (o ⊙ tanh cₜ)', C.wire, [{v: 'h_proj'}], t, {colW: 120});
    }
  }

  /**
   * The backward view: the gradient of L flows right to left, along c (top, orange) and along h (bottom, blue), and
   * down through each gate; every box shows ∂L/∂(what sits there) at step t.
   */
  function backwardValues(svg) {
    var t = S.step, s = bseries();
    var proj = D.proj_size > 0;
    // the flow of the gradient, drawn over the (faded) forward wires
    wire(svg, 'M1228,' + (HY + 9) + ' H24', 'grad-c', true);
    wire(svg, 'M1228,' + (HY2 + 9) + ' H' + (TX + 9) + ' V' + (TY + 18), 'grad-h', true);
    wire(svg, 'M' + (OX + 9) + ',' + (GY + GH) + ' V' + (BUS + 9) + ' H24', 'grad-h', true);
    [FX, IX, GX].forEach(function (x) { wire(svg, 'M' + (x + 9) + ',' + (GY + GH) + ' V' + (BUS + 9), 'grad-h', false); });
    wire(svg, 'M' + (XX + 9) + ',' + (BUS + 9) + ' V840', 'grad-h', true);
    el('text', {'class': 'label', x: 640, y: HY + 30, fill: GC, 'text-anchor': 'middle', 'font-size': 13}, svg,
        '⟵ ∂L/∂c: only ⊙ f at each step, no weights, no squashing');
    el('text', {'class': 'label', x: 460, y: BUS + 28, fill: GH2, 'text-anchor': 'middle', 'font-size': 13}, svg,
        '⟵ ∂L/∂h: through W_hh and every gate\'s σ′ or tanh′');
    if (!s) { return; }
    function o(extra) { var r = {src: s}; for (var k in extra) { r[k] = extra[k]; } return r; }
    panel(svg, 20, HY + 40, '∂L/∂cₜ₋₁ = dcₜ ⊙ f', GC, [{v: 'dc_prev'}], t, o({colW: 96}));
    panel(svg, 20, BUS + 40, '∂L/∂hₜ₋₁ = W_hhᵀ dz', GH2, [{v: 'dh_prev'}], t, o({colW: 96}));
    panel(svg, XX + 26, BUS + 40, S.layer === 0 ? '∂L/∂xₜ = W_ihᵀ dz' : '∂L/∂xₜ → layer ' + (S.layer - 1), C.wire, [{v: 'dx'}], t, o({colW: 96}));
    var gc = o({center: true});
    panel(svg, FX, GY + GH + 12, 'forget', C.forget, [{v: 'd_f', head: '∂L/∂f'}, {v: 'dz_f', head: '∂L/∂z'}], t, gc);
    panel(svg, IX, GY + GH + 12, 'input · ignore', C.input, [{v: 'd_i', head: '∂L/∂i'}, {v: 'dz_i', head: '∂L/∂z'}], t, gc);
    panel(svg, GX, GY + GH + 12, 'candidate · learn', C.cand, [{v: 'd_g', head: '∂L/∂g'}, {v: 'dz_g', head: '∂L/∂z'}], t, gc);
    panel(svg, OX, GY + GH + 12, 'output', C.output, [{v: 'd_o', head: '∂L/∂o'}, {v: 'dz_o', head: '∂L/∂z'}], t, gc);
    panel(svg, MX + 30, HY - 8, '∂L/∂cₜ = from t+1 + through hₜ', GC, [{v: 'dc_next', head: 'from t+1'}, {v: 'dc', head: 'dcₜ'}], t,
        o({above: true, colW: 96}));
    if (proj) {
      panel(svg, TX + 26, HOY + 22, '∂L/∂(o ⊙ tanh cₜ) = W_hrᵀ dh', C.output, [{v: 'd_hidden'}], t, o({colW: 120}));
    }
    panel(svg, 972, HY2 + 30, '∂L/∂hₜ', GH2, [{v: 'dh_out', head: D.num_layers - 1 === S.layer ? 'from yₜ' : 'from above'},
      {v: 'dh_next', head: 'from t+1'}, {v: 'dh', head: 'dhₜ'}], t, o({colW: 80}));
  }

  // ---- plots over time ----

  function plot(box, name, color, v, lo, hi, src) {
    var s = src || series(), T = D.steps;
    var W = 180, H = 92, L = 36, R = 6, TOP = 8, B = 16;
    var wrap = document.createElement('div');
    wrap.className = 'plot';
    var title = document.createElement('div');
    title.style.cssText = 'font-size:12px;font-weight:650;color:' + color;
    title.textContent = name;
    wrap.appendChild(title);
    var svg = el('svg', {viewBox: '0 0 ' + W + ' ' + H, 'data-plot': v}, wrap);
    var size = 0;
    for (var t = 0; t < T; t++) { if (s[v] && s[v][t]) { size = s[v][t].length; } }
    var from = size === 0 || S.unit < size ? S.unit : Math.floor((size - 1) / ROWS) * ROWS, to = Math.min(size, from + ROWS);
    if (lo === null) {
      lo = Infinity; hi = -Infinity;
      for (t = 0; t < T; t++) {
        var a = s[v] && s[v][t];
        for (var k = from; a && k < to; k++) { if (isFinite(a[k])) { lo = Math.min(lo, a[k]); hi = Math.max(hi, a[k]); } }
      }
      if (!isFinite(lo)) { lo = -1; hi = 1; }
      if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    }
    function px(t) { return T === 1 ? (L + W - R) / 2 : L + (W - L - R) * t / (T - 1); }
    function py(y) { return TOP + (H - TOP - B) * (hi - y) / (hi - lo); }
    el('rect', {x: L, y: TOP, width: W - L - R, height: H - TOP - B, fill: '#fff', stroke: '#ddd'}, svg);
    if (lo < 0 && hi > 0) { el('line', {x1: L, x2: W - R, y1: py(0), y2: py(0), stroke: '#e4e4e4'}, svg); }
    el('text', {x: L - 3, y: TOP + 8, 'font-size': 9, 'text-anchor': 'end', fill: '#999'}, svg, +hi.toPrecision(2));
    el('text', {x: L - 3, y: H - B, 'font-size': 9, 'text-anchor': 'end', fill: '#999'}, svg, +lo.toPrecision(2));
    el('text', {x: L, y: H - 4, 'font-size': 9, fill: '#999'}, svg, 't=0');
    el('text', {x: W - R, y: H - 4, 'font-size': 9, 'text-anchor': 'end', fill: '#999'}, svg, 't=' + (T - 1));
    el('line', {x1: px(S.step), x2: px(S.step), y1: TOP, y2: H - B, stroke: '#222', 'stroke-dasharray': '3 2', 'class': 'marker'}, svg);
    for (k = from; k < to; k++) {
      var d = '', pen = false;
      for (t = 0; t < T; t++) {
        var arr = s[v] && s[v][t];
        if (!arr || !isFinite(arr[k])) { pen = false; continue; }
        d += (pen ? ' L' : ' M') + px(t).toFixed(1) + ',' + py(arr[k]).toFixed(1);
        pen = true;
        el('circle', {cx: px(t), cy: py(arr[k]), r: 1.8, fill: UNIT[(k - from) % UNIT.length]}, svg);
      }
      if (d) { el('path', {d: d, fill: 'none', stroke: UNIT[(k - from) % UNIT.length], 'stroke-width': 1.6}, svg); }
    }
    svg.addEventListener('click', function (e) {
      var r = svg.getBoundingClientRect();
      var x = (e.clientX - r.left) / r.width * W;
      S.step = Math.max(0, Math.min(T - 1, Math.round(T === 1 ? 0 : (x - L) / (W - L - R) * (T - 1))));
      render();
    });
    box.appendChild(wrap);
  }

  /**
   * ‖∂L/∂c_t‖ and ‖∂L/∂h_t‖ over t, on a log scale: how far back each path carries the gradient. Each point is a
   * circle.pt with data-var (dc_norm, dh_norm), data-t and data-value.
   */
  function normPlot(box, s) {
    var T = D.steps, W = 370, H = 150, L = 44, R = 8, TOP = 10, B = 18;
    var wrap = document.createElement('div');
    wrap.className = 'plot wide';
    var title = document.createElement('div');
    title.style.cssText = 'font-size:12px;font-weight:650';
    title.innerHTML = '<span style="color:' + GC + '">‖∂L/∂cₜ‖</span> and <span style="color:' + GH2 + '">‖∂L/∂hₜ‖</span> over t'
        + ' <span class="hint">(log scale; L is summed over later steps, so the gradient of an early step has come a long way)</span>';
    wrap.appendChild(title);
    var svg = el('svg', {viewBox: '0 0 ' + W + ' ' + H, 'data-plot': 'grad-norms'}, wrap);
    var lo = Infinity, hi = -Infinity;
    ['dc_norm', 'dh_norm'].forEach(function (v) {
      for (var t = 0; t < T; t++) { var a = s[v][t]; if (a !== null && a > 0 && isFinite(a)) { lo = Math.min(lo, a); hi = Math.max(hi, a); } }
    });
    if (!isFinite(lo)) { lo = 1e-3; hi = 1; }
    var llo = Math.floor(Math.log10(lo)), lhi = Math.ceil(Math.log10(hi));
    if (lhi <= llo) { lhi = llo + 1; }
    function px(t) { return T === 1 ? (L + W - R) / 2 : L + (W - L - R) * t / (T - 1); }
    function py(y) { var l = y > 0 ? Math.log10(y) : llo; return TOP + (H - TOP - B) * (lhi - Math.max(llo, l)) / (lhi - llo); }
    el('rect', {x: L, y: TOP, width: W - L - R, height: H - TOP - B, fill: '#fff', stroke: '#ddd'}, svg);
    for (var e = llo; e <= lhi; e++) {
      el('line', {x1: L, x2: W - R, y1: py(Math.pow(10, e)), y2: py(Math.pow(10, e)), stroke: '#eee'}, svg);
      el('text', {x: L - 3, y: py(Math.pow(10, e)) + 3, 'font-size': 9, 'text-anchor': 'end', fill: '#999'}, svg, '1e' + e);
    }
    el('text', {x: L, y: H - 4, 'font-size': 9, fill: '#999'}, svg, 't=0');
    el('text', {x: W - R, y: H - 4, 'font-size': 9, 'text-anchor': 'end', fill: '#999'}, svg, 't=' + (T - 1));
    el('line', {x1: px(S.step), x2: px(S.step), y1: TOP, y2: H - B, stroke: '#222', 'stroke-dasharray': '3 2', 'class': 'marker'}, svg);
    [['dh_norm', GH2, 1.6], ['dc_norm', GC, 2.4]].forEach(function (p) {
      var d = '', pen = false, a = s[p[0]];
      for (var t = 0; t < T; t++) {
        if (a[t] === null || !isFinite(a[t])) { pen = false; continue; }
        d += (pen ? ' L' : ' M') + px(t).toFixed(1) + ',' + py(a[t]).toFixed(1);
        pen = true;
      }
      if (d) { el('path', {d: d, fill: 'none', stroke: p[1], 'stroke-width': p[2]}, svg); }
      for (t = 0; t < T; t++) {
        if (a[t] === null || !isFinite(a[t])) { continue; }
        var c = el('circle', {'class': 'pt', cx: px(t), cy: py(a[t]), r: 2.6, fill: p[1], 'data-var': p[0], 'data-t': t,
          'data-value': String(a[t])}, svg);
        el('title', {}, c, (p[0] === 'dc_norm' ? '‖∂L/∂c' : '‖∂L/∂h') + '‖ at t = ' + t + ': ' + String(a[t]));
      }
    });
    svg.addEventListener('click', function (ev) {
      var r = svg.getBoundingClientRect();
      var x = (ev.clientX - r.left) / r.width * W;
      S.step = Math.max(0, Math.min(T - 1, Math.round(T === 1 ? 0 : (x - L) / (W - L - R) * (T - 1))));
      render();
    });
    box.appendChild(wrap);
  }

  function drawPlots() {
    var box = document.getElementById('plots');
    box.innerHTML = '';
    if (backwardView()) {
      var b = bseries();
      if (!b) { return; }
      normPlot(box, b);
      plot(box, '∂L/∂c (per unit)', GC, 'dc', null, null, b);
      plot(box, '∂L/∂h (per unit)', GH2, 'dh', null, null, b);
      plot(box, '∂L/∂z forget', C.forget, 'dz_f', null, null, b);
      plot(box, '∂L/∂z input', C.input, 'dz_i', null, null, b);
      plot(box, '∂L/∂z candidate', C.cand, 'dz_g', null, null, b);
      plot(box, '∂L/∂z output', C.output, 'dz_o', null, null, b);
      drawModel();
      return;
    }
    if (!series()) { return; }
    plot(box, 'forget f', C.forget, 'f', 0, 1);
    plot(box, 'input i', C.input, 'i', 0, 1);
    plot(box, 'candidate g', C.cand, 'g', -1, 1);
    plot(box, 'output o', C.output, 'o', 0, 1);
    plot(box, 'cell state c', C.cell, 'c', null, null);
    if (D.proj_size > 0) { plot(box, 'hidden h (projected)', C.wire, 'h_proj', null, null); } else { plot(box, 'hidden h', C.wire, 'h', -1, 1); }
    drawModel();
  }

  // the whole model: the input series, the readout and each head layer's output
  function drawModel() {
    var M = D.model, box = document.getElementById('model');
    if (!M || !box) { return; }
    box.innerHTML = '';
    var spec = document.createElement('div');
    spec.className = 'spec';
    spec.textContent = M.spec;
    box.appendChild(spec);
    var grid = document.createElement('div');
    grid.className = 'model-plots';
    box.appendChild(grid);
    var x = D.series['0,0,' + S.batch];
    if (x) { plot(grid, 'input xₜ (layer 0)', C.cell, 'x', null, null, x); }
    var last = M.layers.length ? M.layers[M.layers.length - 1] : null;
    if (M.per_step && last && last.values[S.batch]) {
      plot(grid, 'model output (' + last.name + ')', C.output, 'y', null, null, {y: last.values[S.batch]});
    }
    var rows = [];
    if (M.per_step) {
      rows.push(['readout ' + M.readout, M.readout_torch + ': every step goes to the head', null]);
      M.layers.forEach(function (l) { var v = l.values[S.batch] && l.values[S.batch][S.step]; rows.push([l.name, l.layer + ' at t = ' + S.step, v]); });
    } else {
      rows.push(['readout ' + M.readout, M.readout_torch, M.readout_values[S.batch]]);
      M.layers.forEach(function (l) { rows.push([l.name, l.layer, l.values[S.batch]]); });
    }
    var tbl = document.createElement('table');
    tbl.className = 'stages';
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      var a = document.createElement('th'); a.textContent = r[0]; tr.appendChild(a);
      var b = document.createElement('td');
      b.textContent = r[1] + (r[2] ? ' → [' + r[2].map(fmt).join(', ') + ']' : '');
      if (r[2]) { b.title = r[2].join(', '); }
      tr.appendChild(b);
      tbl.appendChild(tr);
    });
    box.appendChild(tbl);
  }

  function drawEquations() {
    if (backwardView()) { drawBackwardEquations(); return; }
    var b = D.bias;
    function z(g) { return 'W<sub>i' + g + '</sub>x<sub>t</sub>' + (b ? ' + b<sub>i' + g + '</sub>' : '') + ' + W<sub>h' + g + '</sub>h<sub>t−1</sub>' + (b ? ' + b<sub>h' + g + '</sub>' : ''); }
    var eq = [
      ['forget', 'f<sub>t</sub> = σ(' + z('f') + ')', 'forget: what memory keeps'],
      ['input', 'i<sub>t</sub> = σ(' + z('i') + ')', 'input, "ignore": how much to write'],
      ['cand', 'g<sub>t</sub> = tanh(' + z('g') + ')', 'candidate, "learn": what to write'],
      ['output', 'o<sub>t</sub> = σ(' + z('o') + ')', 'output, "use": what to show'],
      ['cell', 'c<sub>t</sub> = f<sub>t</sub> ⊙ c<sub>t−1</sub> + i<sub>t</sub> ⊙ g<sub>t</sub>', 'long-term memory'],
      ['output', 'h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(c<sub>t</sub>)', 'short-term memory']
    ];
    if (D.proj_size > 0) { eq.push(['cell', 'h<sub>t</sub> = W<sub>hr</sub> h<sub>t</sub>', 'projection to ' + D.proj_size]); }
    document.getElementById('equations').innerHTML = eq.map(function (e) {
      return '<div class="eq ' + e[0] + '">' + e[1] + '<small>' + e[2] + '</small></div>';
    }).join('');
  }

  function drawBackwardEquations() {
    var proj = D.proj_size > 0;
    var eq = [
      ['cell', 'L = ' + esc(D.backward.loss) + ' = ' + fmt(D.backward.loss_value), 'the loss the gradients are of'],
      ['plain', 'dh<sub>t</sub> = ∂L/∂y<sub>t</sub> path + dh<sub>t</sub> from t+1', 'from the output (or the layer above) and from the future'],
      ['output', 'do = dh' + (proj ? '′' : '') + ' ⊙ tanh(c<sub>t</sub>)', 'output gate'],
      ['cell', 'dc<sub>t</sub> = dc<sub>t</sub> from t+1 + dh' + (proj ? '′' : '') + ' ⊙ o ⊙ (1 − tanh²c<sub>t</sub>)', 'the h path joins the c path'],
      ['forget', 'df = dc<sub>t</sub> ⊙ c<sub>t−1</sub>;  dz<sub>f</sub> = df ⊙ f(1 − f)', 'forget gate, σ′'],
      ['input', 'di = dc<sub>t</sub> ⊙ g;  dz<sub>i</sub> = di ⊙ i(1 − i)', 'input gate, σ′'],
      ['cand', 'dg = dc<sub>t</sub> ⊙ i;  dz<sub>g</sub> = dg ⊙ (1 − g²)', 'candidate, tanh′'],
      ['output', 'dz<sub>o</sub> = do ⊙ o(1 − o)', 'output gate, σ′'],
      ['cell', 'dc<sub>t−1</sub> = dc<sub>t</sub> ⊙ f', 'long-term memory: only the forget gate in the way'],
      ['plain', 'dh<sub>t−1</sub> = W<sub>hh</sub>ᵀ dz;  dx<sub>t</sub> = W<sub>ih</sub>ᵀ dz', 'short-term memory: through the weights and every σ′']
    ];
    if (proj) { eq.splice(2, 0, ['plain', 'dh′ = W<sub>hr</sub>ᵀ dh<sub>t</sub>', 'back through the projection']); }
    document.getElementById('equations').innerHTML = eq.map(function (e) {
      return '<div class="eq ' + e[0] + '">' + e[1] + '<small>' + e[2] + '</small></div>';
    }).join('');
  }

  function esc(t) {
    return String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  // ---- controls ----

  function options(select, values, label) {
    select.innerHTML = '';
    values.forEach(function (v) { var o = document.createElement('option'); o.value = v; o.textContent = label(v); select.appendChild(o); });
  }

  function available() {
    var rows = [];
    for (var b = 0; b < D.batch; b++) { if (D.series[S.layer + ',' + S.dir + ',' + b]) { rows.push(b); } }
    return rows;
  }

  function clamp() {
    S.step = Math.max(0, Math.min(D.steps - 1, S.step | 0));
    S.layer = Math.max(0, Math.min(D.num_layers - 1, S.layer | 0));
    S.dir = Math.max(0, Math.min(D.directions - 1, S.dir | 0));
    var rows = available();
    if (rows.indexOf(S.batch) < 0 && rows.length) { S.batch = rows[0]; }
    var maxUnit = Math.floor((widest() - 1) / ROWS) * ROWS;
    S.unit = Math.max(0, Math.min(maxUnit, Math.floor((S.unit | 0) / ROWS) * ROWS));
  }

  function render() {
    clamp();
    var q = function (id) { return document.getElementById(id); };
    q('step').value = S.step;
    q('step-label').textContent = 't = ' + S.step;
    q('layer').value = S.layer;
    q('dir').value = S.dir;
    options(q('batch'), available(), function (b) { return b + (D.lengths[b] < D.steps ? ' (length ' + D.lengths[b] + ')' : ''); });
    q('batch').value = S.batch;
    var units = [];
    for (var u = 0; u < widest(); u += ROWS) { units.push(u); }
    options(q('unit'), units, function (u) { return u + '–' + (Math.min(widest(), u + ROWS) - 1); });
    q('unit').value = S.unit;
    q('unit-box').style.display = widest() > ROWS ? '' : 'none';
    q('view-forward').className = backwardView() ? '' : 'on';
    q('view-backward').className = backwardView() ? 'on' : '';
    drawEquations();
    drawCell();
    drawPlots();
    var st = q('status');
    var s = series();
    var padded = !s || !(s.c && s.c[S.step]);
    var where = 'layer ' + S.layer + (D.directions > 1 ? (S.dir ? ' · reverse' : ' · forward') : '') + (D.batch > 1 ? ' · batch row ' + S.batch : '')
        + ' · step t = ' + S.step + ' of 0..' + (D.steps - 1);
    if (!s) {
      st.textContent = where + ': not in this trace (filtered out)';
    } else if (padded && S.step >= D.lengths[S.batch]) {
      st.textContent = where + ': padding, row ' + S.batch + ' has length ' + D.lengths[S.batch] + ', so nothing is computed here';
    } else if (padded) {
      st.textContent = where + ': not recorded (filtered out)';
    } else if (backwardView()) {
      st.textContent = where + ' · backward: gradients of L = ' + D.backward.loss + ' = ' + fmt(D.backward.loss_value);
    } else {
      st.textContent = where + (D.head && D.head[S.batch] && D.head[S.batch][S.step] && S.layer === D.num_layers - 1
          ? ' · head yₜ = [' + D.head[S.batch][S.step].map(fmt).join(', ') + ']' : '');
    }
    st.className = 'status' + (padded ? ' padding' : '');
    document.body.setAttribute('data-step', S.step);
    document.body.setAttribute('data-layer', S.layer);
    document.body.setAttribute('data-dir', S.dir);
    document.body.setAttribute('data-batch', S.batch);
    document.body.setAttribute('data-unit', S.unit);
    document.body.setAttribute('data-view', backwardView() ? 'backward' : 'forward');
    // the backward runs in double on the forward values, whatever the model's dtype
    q('grad-note').textContent = backwardView() ? '; the gradients are computed in float64 from those values' : '';
    var hash = '#step=' + S.step + '&layer=' + S.layer + '&dir=' + S.dir + '&batch=' + S.batch + '&unit=' + S.unit
        + (backwardView() ? '&view=backward' : '');
    if (location.hash !== hash && history.replaceState) { history.replaceState(null, '', hash); }
  }

  function init() {
    document.getElementById('title').textContent = D.title;
    document.getElementById('desc').textContent = D.description;
    document.getElementById('dtype').textContent = D.dtype;
    document.getElementById('dtype2').textContent = D.dtype;
    var q = function (id) { return document.getElementById(id); };
    q('step').max = D.steps - 1;
    var layers = [];
    for (var l = 0; l < D.num_layers; l++) { layers.push(l); }
    options(q('layer'), layers, String);
    q('layer-box').style.display = D.num_layers > 1 ? '' : 'none';
    q('dir-box').style.display = D.directions > 1 ? '' : 'none';
    q('batch-box').style.display = D.batch > 1 ? '' : 'none';
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      var p = kv.split('=');
      if (p.length === 2 && p[0] !== 'view' && S.hasOwnProperty(p[0]) && /^\d+$/.test(p[1])) { S[p[0]] = parseInt(p[1], 10); }
      if (p.length === 2 && p[0] === 'view' && (p[1] === 'forward' || p[1] === 'backward')) { S.view = p[1]; }
    });
    if (!D.backward) {
      q('view-backward').disabled = true;
      q('view-backward').title = 'this page was written without the backward pass (lstm4j card says why)';
    }
    q('view-forward').addEventListener('click', function () { S.view = 'forward'; render(); });
    q('view-backward').addEventListener('click', function () { S.view = 'backward'; render(); });
    q('step').addEventListener('input', function () { S.step = +this.value; render(); });
    q('layer').addEventListener('change', function () { S.layer = +this.value; render(); });
    q('dir').addEventListener('change', function () { S.dir = +this.value; render(); });
    q('batch').addEventListener('change', function () { S.batch = +this.value; render(); });
    q('unit').addEventListener('change', function () { S.unit = +this.value; render(); });
    document.addEventListener('keydown', function (e) {
      if (e.target && e.target.tagName === 'SELECT') { return; }
      if (e.key === 'ArrowRight') { S.step++; render(); }
      if (e.key === 'ArrowLeft') { S.step--; render(); }
    });
    render();
  }

  init();
}());
