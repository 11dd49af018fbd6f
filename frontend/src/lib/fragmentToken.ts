import { useEffect, useState } from "react";
import { useLocation, useNavigate } from "react-router";

/** The link's token from the address's fragment (#token=…), which no server ever sees. */
export function tokenFromFragment(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, "")).get("token") ?? "";
}

/**
 * A one-time link's token, read once from the fragment; the address bar then forgets it,
 * nor does it stay in the history (a spent link left there invites a second, refused use,
 * and anyone at the screen sees it).
 */
export function useFragmentToken<T>(parse: (hash: string) => T): T {
  const location = useLocation();
  const navigate = useNavigate();
  const [token, setToken] = useState(() => parse(location.hash));
  useEffect(() => {
    if (!location.hash) return;
    // Also a link opened over this very page (a change of the fragment alone).
    setToken(parse(location.hash));
    navigate({ pathname: location.pathname }, { replace: true });
  }, [location.hash, location.pathname, navigate, parse]);
  return token;
}
