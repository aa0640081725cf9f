import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { setApiBase } from './api/client.js';
import { loadSiteConfig } from './logic/site.js';
import './styles.css';

// On AWS /config.json names the API (another origin); locally there is none: same origin.
const site = await loadSiteConfig((input, init) => fetch(input, init));
setApiBase(site.apiUrl);
createRoot(document.getElementById('root')!).render(<App site={site} />);
