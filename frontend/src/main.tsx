import { createRoot } from "react-dom/client";

import { App } from "./App";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
// No StrictMode: it runs effects twice in development, and MFA enrollment's effect is a
// POST that starts a new secret each time.
createRoot(root).render(<App />);
