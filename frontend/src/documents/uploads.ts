/** What may be uploaded, decided before a byte is sent. */

import type { UploadLimits } from "../api/types";
import { formatBytes } from "../lib/format";

const NAMES: Record<string, string> = {
  "application/pdf": "PDF",
  "image/png": "PNG",
  "image/jpeg": "JPEG",
  "application/dicom": "DICOM",
};

export function typeName(contentType: string): string {
  return NAMES[contentType] ?? contentType;
}

/** Why `file` cannot be uploaded, or null. The API decides the type from the bytes. */
export function refusal(file: { size: number }, limits: UploadLimits): string | null {
  if (file.size === 0) return "The file is empty.";
  if (file.size > limits.max_bytes) {
    return `${formatBytes(file.size)} is over the ${formatBytes(limits.max_bytes)} limit.`;
  }
  return null;
}
