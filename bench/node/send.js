// The nodemailer side of bench/send: N personalised messages (HTML + text,
// like letterbox's) through nodemailer's pooled SMTP transport.
//   node send.js PORT CONNECTIONS COUNT HTML_FILE TEXT_FILE
'use strict';
const fs = require('fs');
const net = require('net');
const nodemailer = require('nodemailer');

// nodemailer leaves Nagle on: the last small write of each message then waits
// for smtp-sink's delayed ACK (~40 ms a message).  Give it its best case.
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  this.setNoDelay(true);
  return connect.apply(this, args);
};

const [port, conns, count, htmlFile, textFile] = process.argv.slice(2);
const html = fs.readFileSync(htmlFile, 'utf8');
const text = fs.readFileSync(textFile, 'utf8');
const transport = nodemailer.createTransport({
  host: '127.0.0.1', port: Number(port), secure: false, ignoreTLS: true,
  pool: true, maxConnections: Number(conns), maxMessages: Infinity,
});

async function main() {
  const n = Number(count);
  const t0 = process.hrtime.bigint();
  let next = 0, done = 0;
  // Keep the pool busy: as many sends in flight as connections x 2.
  async function worker() {
    while (next < n) {
      const i = next++;
      const name = `Reader ${i}`;
      await transport.sendMail({
        from: '"Center for Relationship and Intimacy Wellbeing" <news@example.org>',
        to: `"${name}" <reader${i}@example.org>`,
        subject: 'Healing Through Connection: The Importance of a Therapeutic Relationship',
        text: text.replace('Dear Ada', `Dear ${name}`),
        html: html.replace('Dear Ada', `Dear ${name}`),
        list: { id: 'news.example.org', unsubscribe: `https://www.example.org/unsubscribe?t=${i}` },
      });
      done++;
    }
  }
  await Promise.all(Array.from({ length: Number(conns) * 2 }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  transport.close();
  console.log(JSON.stringify({ messages: done, seconds: secs, rate: done / secs,
    rss_mb: process.memoryUsage().rss / 1048576 }));
}
main().catch((e) => { console.error(e); process.exit(1); });
