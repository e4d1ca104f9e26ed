import { render } from 'preact';
import { App } from './app';
import { inTauri } from './bridge';
import './styles.css';

// In the kiosk window: no context menu, and nothing dropped onto the window can navigate it away.
if (inTauri) {
  for (const ev of ['contextmenu', 'dragover', 'drop']) document.addEventListener(ev, (e) => e.preventDefault());
}

const root = document.getElementById('app');
if (root) render(<App />, root);
