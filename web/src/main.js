// main.js — the page: wires the login form, xterm.js and the session.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';

const term = new Terminal({ convertEol: false, scrollback: 10000, fontSize: 14 });
const fit = new FitAddon();
term.loadAddon(fit);
term.open(document.getElementById('term'));
fit.fit();
window.addEventListener('resize', () => fit.fit());
