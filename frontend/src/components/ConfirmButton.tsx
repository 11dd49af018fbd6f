import { useId, useRef } from "react";

/**
 * A button that asks before doing something that cannot be undone, in a modal <dialog>
 * (focus is kept inside it and Escape cancels, as the browser provides).
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  className = "danger",
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  className?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const close = () => dialog.current?.close();
  return (
    <>
      <button type="button" className={className} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId} className="confirm">
        <p id={titleId}>{question}</p>
        <div className="actions">
          <button type="button" onClick={close} autoFocus>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => {
              close();
              onConfirm();
            }}
          >
            {confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}
