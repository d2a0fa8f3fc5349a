#!/usr/bin/python3
"""The benchmark's reference model: a Python RPC echo server that works as
the reference Python consumer does, to compare rabbitmq-consumer's Python
handlers with.

- pika's BlockingConnection (Debian's python3-pika), one channel;
- declares as the reference: the queue durable, the exchange direct and
  non-durable, bound with routing key = the queue's name; prefetch =
  max_simultaneous_requests (5 by default, the reference's default);
- a thread per message; the handler module is imported once, at start;
- without a lock attribute, one request at a time per exchange (a lock per
  exchange); with one, one request at a time per value of that attribute;
- the thread hands the reply and then the ack to the connection's thread
  (connection.add_callback_threadsafe): the reply goes to the request's
  exchange with routing key reply_to (the default exchange for a direct
  reply-to name), with the same correlation_id.

No validation, no Fernet, no log shipping: what remains is the reference's
way of receiving, running and answering.

    server.py --url amqp://guest:guest@127.0.0.1:5672/VHOST --queue Q
              --exchange X [--prefetch 5] [--lock-attribute n]
              [--handler-directory DIR] [--handler-module echo]
"""

import argparse
import importlib
import json
import os
import sys
import threading
import traceback

import pika

UNEXPECTED = {"success": False, "message": "An unexpected error occurred", "data": None}


class ValueLocks:
    """A lock per value of the lock attribute, forgotten when unused."""

    def __init__(self):
        self._guard = threading.Lock()
        self._locks = {}  # key: [lock, users]

    def acquire(self, value):
        key = json.dumps(value, sort_keys=True)
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        entry[0].acquire()
        return key

    def release(self, key):
        with self._guard:
            entry = self._locks[key]
            entry[0].release()
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]


class Server:
    """Consumes the queue and answers each request in its own thread."""

    def __init__(self, args, handler):
        self.args = args
        self.handler = handler
        self.exchange_lock = threading.Lock()
        self.value_locks = ValueLocks()
        self.connection = pika.BlockingConnection(pika.URLParameters(args.url))
        self.channel = self.connection.channel()
        self.channel.queue_declare(queue=args.queue, durable=True)
        self.channel.exchange_declare(exchange=args.exchange, exchange_type="direct", durable=False)
        self.channel.queue_bind(queue=args.queue, exchange=args.exchange, routing_key=args.queue)
        self.channel.basic_qos(prefetch_count=args.prefetch)
        self.channel.basic_consume(queue=args.queue, on_message_callback=self.on_message)

    def on_message(self, channel, method, properties, body):
        threading.Thread(target=self.work, args=(channel, method, properties, body), daemon=True).start()

    def work(self, channel, method, properties, body):
        try:
            request = json.loads(body)
            response = self.run_locked(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = UNEXPECTED
        reply = json.dumps(response).encode()
        self.connection.add_callback_threadsafe(lambda: self.reply_then_ack(channel, method, properties, reply))

    def run_locked(self, request):
        if self.args.lock_attribute is None:
            with self.exchange_lock:
                return self.handler.handle(request)
        key = self.value_locks.acquire(request.get(self.args.lock_attribute))
        try:
            return self.handler.handle(request)
        finally:
            self.value_locks.release(key)

    @staticmethod
    def reply_then_ack(channel, method, properties, reply):
        exchange = method.exchange
        if properties.reply_to.startswith("amq.rabbitmq.reply-to"):
            exchange = ""
        channel.basic_publish(
            exchange=exchange,
            routing_key=properties.reply_to,
            body=reply,
            properties=pika.BasicProperties(content_type="application/json", correlation_id=properties.correlation_id),
        )
        channel.basic_ack(delivery_tag=method.delivery_tag)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="broker URL with the virtual host")
    parser.add_argument("--queue", required=True)
    parser.add_argument("--exchange", required=True)
    parser.add_argument("--prefetch", type=int, default=5, help="max_simultaneous_requests")
    parser.add_argument("--lock-attribute", default=None, help="the contract's lock attribute (none: one request at a time)")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--handler-directory", default=os.path.join(here, "..", "python-echo"))
    parser.add_argument("--handler-module", default="echo")
    args = parser.parse_args()
    sys.path.insert(0, args.handler_directory)
    handler = importlib.import_module(args.handler_module)
    server = Server(args, handler)
    print("consuming", file=sys.stderr, flush=True)
    try:
        server.channel.start_consuming()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
