"""Rehearsing a service's task on this machine before ECS runs it: the image's facts read
from its Dockerfile (`dockerfile`), and one container run the way Fargate would run it, in a
bubblewrap sandbox, judged by the container's own health check (`sandbox`)."""
