# normviz: the Streamlit app on port 8501.
#   docker build -t normviz .
#   docker run -p 8501:8501 normviz
# Where torch==2.13.0 from PyPI would pull the CUDA build, use PyTorch's CPU index:
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cpu -t normviz .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Non-root user with a home directory (streamlit writes ~/.streamlit).
RUN groupadd --gid 1000 appuser \
    && useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash appuser

WORKDIR /app

# Requirements first, so code changes do not re-install the dependencies.
ARG TORCH_INDEX=
COPY requirements.txt constraints.txt ./
RUN pip install ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} -r requirements.txt -c constraints.txt

COPY --chown=appuser:appuser . .

USER appuser

EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request as u; u.urlopen('http://localhost:8501/_stcore/health', timeout=3)"

CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
