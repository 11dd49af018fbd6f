"""Each service's running image: the tag its release parameter names, and ECR's scan
findings."""

from __future__ import annotations

from botocore.exceptions import ClientError

from health_platform.checks import Check
from health_platform.infra import naming
from health_platform.ops.aws import error_code
from health_platform.ops.doctor.environment import Environment


def check_released_images(e: Environment) -> list[Check]:
    """Each service runs the image its release parameter names."""
    checks = []
    for name in e.running():
        parameter = naming.release_parameter(e.env, name)
        tag = e.parameters.get(parameter)
        images = [c.get("image", "") for c in e.containers(name)]
        if tag is None:
            detail = f"runs {', '.join(images)}; no release tag to compare ({parameter} missing)"
            checks.append(Check(name, "image", "warn", detail, f"hp release {e.env}"))
        elif all(_reference(image)[1] == {"imageTag": tag} for image in images):
            checks.append(Check(name, "image", "pass", f"runs the released tag {tag}"))
        else:
            detail = f"runs {', '.join(images)} but {parameter} says {tag}"
            checks.append(Check(name, "image", "fail", detail, f"hp release {e.env}"))
    return checks


def check_image_scans(e: Environment) -> list[Check]:
    """ECR's scan findings of each running image: CRITICAL fails, HIGH warns."""
    release = f"rebuild on patched base images, then `hp release {e.env}`"
    checks = []
    for name in e.running():
        for image in dict.fromkeys(c.get("image", "") for c in e.containers(name)):
            repository, image_id = _reference(image)
            if ".dkr.ecr." not in image:
                detail = f"{image} is not in ECR: nothing scans it"
                checks.append(Check(name, "image scan", "warn", detail, f"hp release {e.env}"))
                continue
            registry, region = image.split(".", 1)[0], image.split(".")[3]
            try:
                found = e.client("ecr", region).describe_image_scan_findings(
                    registryId=registry, repositoryName=repository, imageId=image_id
                )
            except ClientError as missing:
                checks.append(_scan_missing(e, name, repository, image_id, missing))
                continue
            status = found.get("imageScanStatus", {})
            counts = found.get("imageScanFindings", {}).get("findingSeverityCounts", {})
            said = ", ".join(f"{n} {level}" for level, n in sorted(counts.items())) or "none"
            if status.get("status") not in ("COMPLETE", "ACTIVE"):
                detail = f"scan {status.get('status')}: {status.get('description', '')}".strip()
                checks.append(
                    Check(name, "image scan", "warn", detail, _scan(repository, image_id))
                )
            elif counts.get("CRITICAL"):
                checks.append(Check(name, "image scan", "fail", f"findings: {said}", release))
            elif counts.get("HIGH"):
                checks.append(Check(name, "image scan", "warn", f"findings: {said}", release))
            else:
                checks.append(Check(name, "image scan", "pass", f"findings: {said}"))
    return checks


def _scan_missing(
    e: Environment, name: str, repository: str, image_id: dict[str, str], missing: ClientError
) -> Check:
    code = error_code(missing)
    if code == "ScanNotFoundException":
        detail = "the image was never scanned"
        return Check(name, "image scan", "warn", detail, _scan(repository, image_id))
    if code == "ImageNotFoundException":
        detail = f"the image is no longer in {repository}"
        return Check(name, "image scan", "fail", detail, f"hp release {e.env}")
    if code == "RepositoryNotFoundException":
        return Check(name, "image scan", "fail", f"no repository {repository}", e.apply_hint)
    raise missing


def _scan(repository: str, image_id: dict[str, str]) -> str:
    said = ",".join(f"{key}={value}" for key, value in image_id.items())
    return f"aws ecr start-image-scan --repository-name {repository} --image-id {said}"


def _reference(image: str) -> tuple[str, dict[str, str]]:
    """`[registry/]repository:tag` or `…@sha256:…` as (repository, ECR image id)."""
    first, _, rest = image.partition("/")
    path = rest if rest and ("." in first or ":" in first) else image  # a registry host
    if "@" in path:
        repository, digest = path.split("@", 1)
        return repository, {"imageDigest": digest}
    repository, _, tag = path.rpartition(":")
    return (repository, {"imageTag": tag}) if repository else (path, {"imageTag": "latest"})
