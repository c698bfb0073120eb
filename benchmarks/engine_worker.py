"""The platform's engine worker as its own process, reporting its activity slots.

It is the worker `stigmer worker --queue engine` runs (built by `build_worker`), on a
client that carries a `SlotCounter`, whose readings it appends as JSON lines to a file every `--every` seconds,
so the benchmark sees the slots in use from outside the process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from pathlib import Path

from benchmarks.counting import SlotCounter
from stigmer.client import WorkerClient
from stigmer.config import load_settings
from stigmer.observability.logs import configure_logging
from stigmer.temporal import connect_temporal
from stigmer.workers import build_worker


async def serve(
    temporal_address: str, address: str, slots: int, samples: Path, every: float
) -> None:
    settings = load_settings(
        temporal_address=temporal_address,
        address=address,
        engine_max_activities=slots,
        metrics_port=0,
    )
    configure_logging(settings)
    counter = SlotCounter()
    temporal = await connect_temporal(settings, interceptors=[counter])
    api = WorkerClient.from_settings(settings)
    worker = build_worker("engine", temporal, api, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    running = asyncio.create_task(worker.run())
    with samples.open("a") as out:
        while not stop.is_set():
            reading = {
                "t": time.time(),
                "running": counter.running,
                "peak": counter.peak,
                "pended": counter.pended,
                "slots": slots,
            }
            out.write(json.dumps(reading) + "\n")
            out.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
    await worker.shutdown()
    await running
    await api.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--temporal-address", required=True)
    parser.add_argument("--address", required=True, help="the API")
    parser.add_argument("--slots", type=int, default=5)
    parser.add_argument("--samples", type=Path, required=True)
    parser.add_argument("--every", type=float, default=0.25)
    args = parser.parse_args()
    asyncio.run(serve(args.temporal_address, args.address, args.slots, args.samples, args.every))


if __name__ == "__main__":
    main()
