// A minimal W3C WebDriver client over fetch: enough to drive the kiosk window through tauri-driver
// without pulling a WebDriver library into the UI's dependencies.

export class WebDriver {
  constructor(base) {
    this.base = base;
  }

  async req(method, path, body) {
    const resp = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      // A driver that never answers (no display, a crashed app) fails the test instead of hanging it.
      signal: AbortSignal.timeout(120000),
    });
    const json = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${JSON.stringify(json.value ?? json)}`);
    return json.value;
  }

  async start(capabilities) {
    const value = await this.req('POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    this.session = value.sessionId;
    return this;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  async quit() {
    if (this.session) await this.req('DELETE', `/session/${this.session}`).catch(() => {});
  }

  /** The element for a CSS selector, or null. */
  async find(css) {
    try {
      const v = await this.req('POST', this.s('/element'), { using: 'css selector', value: css });
      return Object.values(v)[0];
    } catch {
      return null;
    }
  }

  async findAll(css) {
    const v = await this.req('POST', this.s('/elements'), { using: 'css selector', value: css });
    return v.map((e) => Object.values(e)[0]);
  }

  async waitFor(css, ms = 30000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const el = await this.find(css);
      if (el && (await this.req('GET', this.s(`/element/${el}/displayed`)).catch(() => false))) return el;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${css}`);
  }

  async click(css) {
    const el = await this.waitFor(css);
    await this.req('POST', this.s(`/element/${el}/click`), {});
  }

  async type(css, text) {
    const el = await this.waitFor(css);
    await this.req('POST', this.s(`/element/${el}/clear`), {}).catch(() => {});
    await this.req('POST', this.s(`/element/${el}/value`), { text });
  }

  async text(css) {
    const el = await this.waitFor(css);
    return this.req('GET', this.s(`/element/${el}/text`));
  }

  /** Picks an option of a <select> the way a user does, so the app's change handler runs. */
  async select(css, value) {
    await this.waitFor(css);
    await this.exec(
      `const el = document.querySelector(arguments[0]); el.value = arguments[1];
       el.dispatchEvent(new Event('change', { bubbles: true }));`,
      [css, value],
    );
  }

  /**
   * Draws strokes on an element with W3C pointer actions, as a person with a pen (or mouse) would: each stroke a
   * list of [x, y] offsets in CSS pixels from the element's centre, moved through in `steps` pointer moves.
   */
  async draw(css, strokes, { pointerType = 'pen', steps = 6 } = {}) {
    const el = await this.waitFor(css);
    await this.exec('document.querySelector(arguments[0]).scrollIntoView({ block: "center" })', [css]);
    const origin = { 'element-6066-11e4-a52e-4f735466cecf': el };
    const actions = [];
    for (const stroke of strokes) {
      const [[x0, y0], ...rest] = stroke;
      actions.push({ type: 'pointerMove', duration: 0, origin, x: Math.round(x0), y: Math.round(y0) });
      actions.push({ type: 'pointerDown', button: 0, pressure: 0.6 });
      let [px, py] = [x0, y0];
      for (const [x, y] of rest) {
        for (let i = 1; i <= steps; i++) {
          const nx = px + ((x - px) * i) / steps;
          const ny = py + ((y - py) * i) / steps;
          actions.push({ type: 'pointerMove', duration: 16, origin, x: Math.round(nx), y: Math.round(ny), pressure: 0.4 + 0.4 * (i / steps) });
        }
        [px, py] = [x, y];
      }
      actions.push({ type: 'pointerUp', button: 0 });
    }
    await this.req('POST', this.s('/actions'), {
      actions: [{ type: 'pointer', id: `${pointerType}-1`, parameters: { pointerType }, actions }],
    });
    await this.req('DELETE', this.s('/actions')).catch(() => {});
  }

  async exec(script, args = []) {
    return this.req('POST', this.s('/execute/sync'), { script, args });
  }
}
