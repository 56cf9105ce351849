#!/usr/bin/env python3
"""Monthly cost of one connector: binlog-poller on Lambda + DynamoDB (1-minute schedule) next to
Debezium on MSK Connect, at 10 / 1,000 / 100,000 row changes per second. Prints the markdown
table docs/deploying.md shows (Cost).

    bench/cost_model.py --cpu-us-per-event 9.5 --invocation-ms 400

The two measured inputs come from bench/lambda.sh: CPU time per published event (schemas on,
the Debezium default) and the fixed cost of an invocation (a cold start that connects to MySQL,
Kafka and DynamoDB and publishes one event; warm invocations cost less). Lambda gives a function
one vCPU at 1,769 MB and CPU in proportion below that, so CPU-seconds convert to GB-seconds at
1.769 GB per CPU-second whatever the memory setting.

Prices: us-east-1 list prices as of 2026-11-24. This machine cannot reach AWS, so they were read
from stored copies of AWS's pricing pages (Lambda, DynamoDB) and, for MSK Connect and
CloudWatch, from the pricing pages as last published; check the AWS Pricing Calculator before
budgeting. Free tiers are left out: they are per account, not per connector.
"""
import argparse
import re
from pathlib import Path

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600

LAMBDA_ARM_GB_SECOND = 0.0000133334  # aws.amazon.com/lambda/pricing, Arm, first tier
LAMBDA_REQUEST = 0.20 / 1e6
DYNAMODB_WRITE = 0.625 / 1e6  # on-demand write request unit (after the Nov 2024 price cut)
DYNAMODB_READ = 0.125 / 1e6  # on-demand read request unit
CLOUDWATCH_METRIC = 0.30  # per custom metric-month (first 10,000)
CLOUDWATCH_ALARM = 0.10  # per standard-resolution alarm-month
CLOUDWATCH_LOGS_GB = 0.50  # ingestion
MSK_CONNECT_MCU_HOUR = 0.11  # 1 MCU = 1 vCPU + 4 GiB

GB_PER_CPU_SECOND = 1.769  # Lambda: one full vCPU at 1,769 MB
# The metrics src/platform/telemetry.rs declares (one Connector dimension), counted there so the
# model follows the code.
EMF_METRICS = len(
    set(re.findall(r'pub const (\w+): &str', (Path(__file__).resolve().parent.parent / "src/platform/telemetry.rs").read_text()))
    - {"NAMESPACE", "DIMENSION"}
)
ALARMS = 4
LOG_BYTES_PER_INVOCATION = 1500  # summary line, EMF line, Lambda's START/END/REPORT lines
# Per invocation: read the checkpoint (one strongly consistent read), take the lease,
# checkpoint, release (three conditional updates); one more checkpoint per 10 s of a long poll.
READS_PER_INVOCATION = 1
WRITES_PER_INVOCATION = 3
FLUSH_SECONDS = 10


def lambda_month(rate: float, cpu_us_per_event: float, invocation_ms: float, memory_gb: float):
    invocations = SECONDS_PER_MONTH / 60
    events = rate * SECONDS_PER_MONTH
    cpu_seconds_per_minute = rate * 60 * cpu_us_per_event / 1e6
    gb_seconds = events * cpu_us_per_event / 1e6 * GB_PER_CPU_SECOND + invocations * invocation_ms / 1000 * memory_gb
    compute = gb_seconds * LAMBDA_ARM_GB_SECOND + invocations * LAMBDA_REQUEST
    poll_seconds = cpu_seconds_per_minute / min(1.0, memory_gb / GB_PER_CPU_SECOND)
    extra_flushes = invocations * max(0.0, poll_seconds / FLUSH_SECONDS)
    dynamodb = (invocations * WRITES_PER_INVOCATION + extra_flushes) * DYNAMODB_WRITE + invocations * READS_PER_INVOCATION * DYNAMODB_READ
    cloudwatch = EMF_METRICS * CLOUDWATCH_METRIC + ALARMS * CLOUDWATCH_ALARM + invocations * LOG_BYTES_PER_INVOCATION / 1e9 * CLOUDWATCH_LOGS_GB
    return compute, dynamodb, cloudwatch, cpu_seconds_per_minute


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cpu-us-per-event", type=float, required=True)
    p.add_argument("--invocation-ms", type=float, required=True)
    args = p.parse_args()
    rows = [
        # rate, Lambda memory (GB), MSK Connect MCUs for Debezium
        (10, 0.512, 1),
        (1_000, 0.512, 1),
        (100_000, 1.769, 8),
    ]
    print("| events/s | Lambda (arm64) | DynamoDB | CloudWatch | binlog-poller total | MSK Connect (Debezium) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for rate, memory, mcus in rows:
        compute, dynamodb, cloudwatch, cpu_min = lambda_month(rate, args.cpu_us_per_event, args.invocation_ms, memory)
        total = compute + dynamodb + cloudwatch
        msk = mcus * MSK_CONNECT_MCU_HOUR * HOURS_PER_MONTH
        note = ""
        if cpu_min > 50:
            note = f" (needs {cpu_min:.0f} CPU-s per minute: more than one function can do, see below)"
        print(f"| {rate:,} | ${compute:,.2f} ({int(memory * 1000)} MB) | ${dynamodb:,.2f} | ${cloudwatch:,.2f} "
              f"| **${total:,.2f}**{note} | ${msk:,.2f} ({mcus} MCU) |")


if __name__ == "__main__":
    main()
