import { useEffect, useRef } from "react";
import { Link } from "react-router";

/** A whole page that says what went wrong (403, 404) and where to go instead. */
export function ProblemPage({
  title,
  message,
  home = "/",
}: {
  title: string;
  message: string;
  home?: string;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="problem-page" aria-labelledby="problem-title">
      <h1 id="problem-title" tabIndex={-1} ref={heading}>
        {title}
      </h1>
      <p>{message}</p>
      <p>
        <Link to={home}>Go to your home page</Link>
      </p>
    </section>
  );
}

export function NotFoundPage() {
  return <ProblemPage title="Page not found" message="There is no page at this address." />;
}
