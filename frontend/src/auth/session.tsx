/**
 * Who is signed in. Kept in memory only: nothing about the user or their health data goes
 * to localStorage or sessionStorage. A reload asks the API (/api/auth/me) again.
 */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import type { ReactNode } from "react";

import { ApiError, whenSessionEnds } from "../api/client";
import { auth } from "../api/endpoints";
import type { User } from "../api/types";

export const SESSION_EXPIRED = "Your session has expired. Please sign in again.";

interface Session {
  /** undefined while the first /me answer is awaited; null when nobody is signed in. */
  user: User | null | undefined;
  /**
   * Why the API could not say who is signed in (too many requests, no connection, a
   * service problem): not the same as being signed out. `user` stays undefined meanwhile.
   */
  checkError: unknown;
  /** Asks the API again after checkError. */
  retryCheck: () => void;
  /** Why the user was sent back to sign-in, shown there once. */
  notice: string | null;
  signedIn: (user: User) => void;
  signOut: () => Promise<void>;
  /** Sets the notice sign-in shows next (a page that sends the user there says why). */
  notify: (message: string) => void;
  clearNotice: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const [checkError, setCheckError] = useState<unknown>(null);
  // The listener below outlives renders; it reads the user through this ref.
  const current = useRef(user);
  current.current = user;

  useEffect(() => {
    whenSessionEnds(() => {
      if (current.current) setNotice(SESSION_EXPIRED); // not for a visitor never signed in
      setUser(null);
    });
  }, []);

  const retryCheck = useCallback(() => {
    setCheckError(null);
    auth.me().then(setUser, (error: unknown) => {
      // Only the API's own "not signed in" means signed out; anything else is a failed check.
      if (error instanceof ApiError && error.status === 401) setUser(null);
      else setCheckError(error);
    });
  }, []);
  useEffect(retryCheck, [retryCheck]);

  const signedIn = useCallback((next: User) => {
    setNotice(null);
    setUser(next);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await auth.logout();
    } finally {
      setUser(null);
    }
  }, []);

  const notify = useCallback((message: string) => setNotice(message), []);
  const clearNotice = useCallback(() => setNotice(null), []);
  const value = useMemo(
    () => ({ user, checkError, retryCheck, notice, signedIn, signOut, notify, clearNotice }),
    [user, checkError, retryCheck, notice, signedIn, signOut, notify, clearNotice],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session where there is one (a component also shown outside the application, as in
 * its own tests, works without). */
export function useOptionalSession(): Session | null {
  return useContext(SessionContext);
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession needs a SessionProvider above it");
  return session;
}

/** Administrators must enroll a second factor before anything else (the API insists too). */
export function needsMfaEnrollment(user: User): boolean {
  return user.role === "admin" && !user.mfa_enabled;
}

export function homeOf(user: User): string {
  if (needsMfaEnrollment(user)) return "/mfa/enroll";
  return user.role === "admin" ? "/admin" : "/";
}
