"""The backend API of the Personal Health Platform (FastAPI on port 5000)."""
