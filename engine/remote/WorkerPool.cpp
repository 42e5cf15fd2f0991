#include "remote/WorkerPool.h"
#include "util/Cbor.h"

#include "remote/Portable.h"
#include "spec/SpecError.h"

#include <QCborArray>
#include <QCborValue>

#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace fedwb::remote {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

const char *kWakeEndpoint = "inproc://fedwb-pool-wake";
// The most bad messages logged per peer (a peer sending garbage must not flood the log).
constexpr int kBadMessagesLogged = 5;
// The departed workers a snapshot keeps (the workers panel shows them as left or lost).
constexpr std::size_t kDepartedKept = 32;

// The peer's address of a received frame (ZMQ_MSG_PROPERTY_PEER_ADDRESS; empty for inproc/ipc).
QString peerAddress(zmq::message_t &frame) {
    try {
        return QString::fromUtf8(frame.gets("Peer-Address")).left(64);
    } catch (const zmq::error_t &) {
        return {};
    }
}

} // namespace

struct WorkerPool::Impl {
    enum class State { Joined, Preparing, Ready, Refused };
    struct Session {
        QByteArray identity;
        QString name, build, device, note, address;
        int threads = 1;
        KernelSettings kernel;
        State state = State::Joined;
        Clock::time_point lastSeen = Clock::now();
        std::set<QString> inFlight;
        std::map<QString, Clock::time_point> sentAt;
        int done = 0;
        double secondsPerTask = 0; // moving average of dispatch-to-result time; 0 = not measured yet
    };
    struct Departed {
        WorkerInfo info;
        Clock::time_point lastSeen;
    };
    struct Pending {
        QString id;
        QByteArray message; // the encoded task message
        int round = 0, client = -1;
        bool done = false;
        bool local = false; // taken by the fallback
        QByteArray assignedTo;
        Clock::time_point deadline;
    };
    // The tasks of one RemoteExecutor::run call.
    struct Batch {
        std::vector<Pending> tasks;
        std::map<QString, std::size_t> byId;
        std::deque<std::size_t> queue;
        std::deque<std::pair<std::size_t, ClientResult>> finished; // for the run thread
        QString failure;
        bool cancelled = false;
    };
    struct Binding {
        quint64 run = 0;
        QJsonObject spec;
        QString datasetDigest, partitionDigest;
        std::int64_t parameterCount = 0;
        bool portable = false;
        double taskTimeoutSeconds = 600;
    };

    PoolOptions options;
    QString endpoint;
    zmq::context_t context;
    zmq::socket_t router, wakeIn, wakeOut, zap;
    std::mutex wakeMutex; // wakeOut is used by any thread

    mutable std::mutex mutex; // everything below
    std::condition_variable changed;
    std::map<QByteArray, Session> sessions;
    std::deque<Departed> departed; // newest first, at most kDepartedKept
    std::map<QByteArray, int> badMessages;
    std::optional<Binding> binding;
    Batch *batch = nullptr;
    std::vector<std::pair<QByteArray, QByteArray>> outbox; // queued by other threads: sent by the pool's
    std::function<void(const QString &)> logger;
    std::vector<QString> logs; // flushed outside the lock
    int duplicates = 0;
    bool quit = false;
    std::thread thread;
    KernelSettings ownKernel = currentKernelSettings();

    void log(const QString &text) { logs.push_back(text); }
    // Any thread, under the lock: the pool's thread sends it on its next pass (only it touches the socket).
    void post(const QByteArray &identity, QByteArray bytes) {
        outbox.emplace_back(identity, std::move(bytes));
    }
    void wake() {
        std::lock_guard lock(wakeMutex);
        wakeOut.send(zmq::buffer("w", 1), zmq::send_flags::dontwait);
    }
    bool send(const QByteArray &identity, const QByteArray &bytes) {
        try {
            zmq::message_t id(identity.constData(), std::size_t(identity.size()));
            zmq::message_t body(bytes.constData(), std::size_t(bytes.size()));
            if (!router.send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
            return bool(router.send(body, zmq::send_flags::dontwait));
        } catch (const zmq::error_t &) { // EHOSTUNREACH: that peer is gone (router_mandatory)
            return false;
        }
    }
    QString nameOf(const QByteArray &identity) const {
        const auto it = sessions.find(identity);
        return it != sessions.end()
                   ? QStringLiteral("worker ") + it->second.name
                   : QStringLiteral("peer ") + QString::fromLatin1(identity.toHex().left(12));
    }

    void loop();
    void handleZap();
    void handle(const QByteArray &identity, const QByteArray &bytes, const QString &address);
    static WorkerInfo infoOf(const Session &s);
    void handleMessage(Session &s, const Message &m);
    void handleResult(Session &s, const Message &m);
    void sendPrepare(Session &s);
    // `why` completes "worker NAME ..."; lost: it did not say goodbye.
    void dropSession(const QByteArray &identity, const QString &why, bool lost);
    void requeue(Session &s);
    void timers(Clock::time_point &lastBeat);
    void dispatch();
};

WorkerPool::WorkerPool(PoolOptions options)
    : d(std::make_unique<Impl>()) {
    d->options = std::move(options);
    Impl &p = *d;
    p.wakeIn = zmq::socket_t(p.context, zmq::socket_type::pull);
    p.wakeIn.bind(kWakeEndpoint);
    p.wakeOut = zmq::socket_t(p.context, zmq::socket_type::push);
    p.wakeOut.connect(kWakeEndpoint);
    p.router = zmq::socket_t(p.context, zmq::socket_type::router);
    p.router.set(zmq::sockopt::router_mandatory, 1);
    p.router.set(zmq::sockopt::maxmsgsize, p.options.maxMessageBytes + 4096);
    p.router.set(zmq::sockopt::linger, 1000);
    if (p.options.curve) {
        if (!curveAvailable()) throw std::runtime_error("this libzmq was built without CURVE support");
        // The ZAP handler must be bound before the socket that uses it.
        p.zap = zmq::socket_t(p.context, zmq::socket_type::rep);
        p.zap.bind("inproc://zeromq.zap.01");
        p.router.set(zmq::sockopt::curve_server, 1);
        p.router.set(zmq::sockopt::curve_secretkey, p.options.curve->secretKey.toStdString());
        p.router.set(zmq::sockopt::zap_domain, "fedwb");
    }
    try {
        p.router.bind(p.options.bind.toStdString());
    } catch (const zmq::error_t &e) {
        throw std::runtime_error(QStringLiteral("--bind %1: cannot bind: %2")
                                     .arg(p.options.bind, QString::fromLocal8Bit(e.what()))
                                     .toStdString());
    }
    p.endpoint = QString::fromStdString(p.router.get(zmq::sockopt::last_endpoint));
    p.thread = std::thread([&p] { p.loop(); });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard lock(d->mutex);
        d->quit = true;
    }
    d->wake();
    d->thread.join();
}

QString WorkerPool::endpoint() const {
    return d->endpoint;
}

void WorkerPool::setLogger(std::function<void(const QString &)> log) {
    std::lock_guard lock(d->mutex);
    d->logger = std::move(log);
}

WorkerInfo WorkerPool::Impl::infoOf(const Session &s) {
    WorkerInfo w;
    w.name = s.name;
    static const char *names[] = {"joined", "preparing", "ready", "refused"};
    w.state = QLatin1String(names[int(s.state)]);
    w.note = s.note;
    w.device = s.device;
    w.build = s.build;
    w.address = s.address;
    w.kernel = s.kernel.describe();
    w.portable = s.kernel == portableKernelSettings();
    w.threads = s.threads;
    w.heartbeatAgeSeconds = secondsSince(s.lastSeen);
    w.inFlight = int(s.inFlight.size());
    w.tasksDone = s.done;
    w.tasksPerSecond = s.secondsPerTask > 0 ? s.threads / s.secondsPerTask : 0;
    return w;
}

std::vector<WorkerInfo> WorkerPool::workers() const {
    return snapshot().workers;
}

PoolSnapshot WorkerPool::snapshot() const {
    PoolSnapshot out;
    std::lock_guard lock(d->mutex);
    for (const auto &[id, s] : d->sessions) {
        out.workers.push_back(Impl::infoOf(s));
        if (s.state == Impl::State::Ready) ++out.readyWorkers;
    }
    std::sort(out.workers.begin(), out.workers.end(),
              [](const WorkerInfo &a, const WorkerInfo &b) { return a.name < b.name; });
    for (const Impl::Departed &gone : d->departed) {
        WorkerInfo w = gone.info;
        w.heartbeatAgeSeconds = secondsSince(gone.lastSeen);
        out.departed.push_back(std::move(w));
    }
    out.bound = d->binding.has_value();
    return out;
}

bool WorkerPool::encrypted() const {
    return d->options.curve.has_value();
}

int WorkerPool::readyWorkers() const {
    std::lock_guard lock(d->mutex);
    return int(std::count_if(d->sessions.begin(), d->sessions.end(),
                             [](const auto &s) { return s.second.state == Impl::State::Ready; }));
}

void WorkerPool::Impl::loop() {
    Clock::time_point lastBeat = Clock::now();
    for (;;) {
        std::vector<zmq::pollitem_t> items{{router.handle(), 0, ZMQ_POLLIN, 0},
                                           {wakeIn.handle(), 0, ZMQ_POLLIN, 0}};
        if (zap) items.push_back({zap.handle(), 0, ZMQ_POLLIN, 0});
        try {
            zmq::poll(items, std::chrono::milliseconds(50));
        } catch (const zmq::error_t &) { // EINTR
        }
        std::function<void(const QString &)> sink;
        std::vector<QString> out;
        {
            std::lock_guard lock(mutex);
            if (zap && (items[2].revents & ZMQ_POLLIN)) handleZap();
            // At most a bounded number per pass, so timers and the run thread are served under load.
            for (int n = 0; n < 256; ++n) {
                zmq::message_t id;
                if (!router.recv(id, zmq::recv_flags::dontwait)) break;
                std::vector<zmq::message_t> frames; // ROUTER: [identity, body]; more frames are not ours
                for (bool more = id.more(); more;) {
                    zmq::message_t frame;
                    if (!router.recv(frame, zmq::recv_flags::dontwait)) break;
                    more = frame.more();
                    frames.push_back(std::move(frame));
                }
                const QByteArray identity(id.data<char>(), qsizetype(id.size()));
                if (frames.size() != 1) {
                    if (++badMessages[identity] <= kBadMessagesLogged)
                        log(QStringLiteral("ignored a message of %1 frames from %2 (one is expected)")
                                .arg(frames.size())
                                .arg(nameOf(identity)));
                    continue;
                }
                handle(identity, QByteArray(frames[0].data<char>(), qsizetype(frames[0].size())),
                       peerAddress(frames[0]));
            }
            zmq::message_t w;
            while (wakeIn.recv(w, zmq::recv_flags::dontwait)) {
            }
            if (quit) {
                if (options.stopWorkersOnExit)
                    for (auto &[id, s] : sessions)
                        send(id, encode(MessageType::Stop, {{QStringLiteral("reason"),
                                                             QStringLiteral("the coordinator is done")}}));
                break;
            }
            for (const auto &[identity, bytes] : outbox)
                send(identity, bytes);
            outbox.clear();
            timers(lastBeat);
            dispatch();
            out.swap(logs);
            sink = logger;
        }
        if (sink)
            for (const QString &line : out)
                sink(line);
    }
    router.close();
}

// ZAP (RFC 27): the coordinator accepts a CURVE client only when its public key is on the allow-list.
void WorkerPool::Impl::handleZap() {
    std::vector<zmq::message_t> frames;
    for (;;) {
        zmq::message_t f;
        if (!zap.recv(f, zmq::recv_flags::dontwait)) break;
        const bool more = f.more();
        frames.push_back(std::move(f));
        if (!more) break;
    }
    if (frames.size() < 6) return;
    const std::string version = frames[0].to_string(), requestId = frames[1].to_string();
    const std::string address = frames[3].to_string(), mechanism = frames[5].to_string();
    bool ok = false;
    QByteArray key;
    if (mechanism == "CURVE" && frames.size() >= 7 && frames[6].size() == 32) {
        char z85[41] = {};
        zmq_z85_encode(z85, frames[6].data<std::uint8_t>(), 32);
        key = QByteArray(z85, 40);
        ok = options.allow.contains(key);
    }
    if (!ok)
        log(QStringLiteral("refused a connection from %1: %2")
                .arg(QString::fromStdString(address),
                     key.isEmpty() ? QStringLiteral("no CURVE key")
                                   : QStringLiteral("its public key %1 is not on the allow-list (--allow)")
                                         .arg(QString::fromLatin1(key))));
    const std::string status = ok ? "200" : "400", text = ok ? "OK" : "not on the allow-list";
    const std::string user = ok ? key.toStdString() : std::string();
    zap.send(zmq::buffer(version), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(requestId), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(status), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(text), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(user), zmq::send_flags::sndmore);
    zap.send(zmq::message_t(), zmq::send_flags::none);
}

void WorkerPool::Impl::handle(const QByteArray &identity, const QByteArray &bytes, const QString &address) {
    const Decoded decoded = decode(bytes, options.maxMessageBytes);
    auto it = sessions.find(identity);
    if (it != sessions.end()) it->second.lastSeen = Clock::now(); // any traffic shows it is alive
    if (!decoded.message) {
        const int count = ++badMessages[identity];
        if (count <= kBadMessagesLogged)
            log(QStringLiteral("ignored a message from %1: %2%3")
                    .arg(nameOf(identity), decoded.error,
                         count == kBadMessagesLogged
                             ? QStringLiteral(" (further bad messages from it are not logged)")
                             : QString()));
        if (decoded.wrongVersion)
            send(identity, encode(MessageType::Reject,
                                  {{QStringLiteral("reason"),
                                    QStringLiteral("the coordinator speaks protocol version %1: %2")
                                        .arg(kProtocolVersion)
                                        .arg(decoded.error)}}));
        return;
    }
    const Message &m = *decoded.message;
    if (m.type == MessageType::Hello) {
        Session s;
        s.identity = identity;
        s.address = address;
        s.name = m.fields.value(QStringLiteral("name")).toString().left(64);
        s.build = m.fields.value(QStringLiteral("build")).toString().left(64);
        s.device = m.fields.value(QStringLiteral("device")).toString().left(64);
        s.threads =
            int(std::clamp<qint64>(cborInteger(m.fields.value(QStringLiteral("threads")), 0), 1, 1024));
        s.kernel = KernelSettings::fromCbor(m.fields.value(QStringLiteral("kernel")).toMap());
        if (it != sessions.end()) requeue(it->second); // a worker that says hello again starts over
        Session &added = sessions[identity] = std::move(s);
        std::erase_if(departed, [&](const Departed &gone) { return gone.info.name == added.name; }); // back
        log(QStringLiteral("worker %1 joined (%2 thread%3, %4, %5, build %6)")
                .arg(added.name)
                .arg(added.threads)
                .arg(added.threads == 1 ? "" : "s")
                .arg(added.device, added.kernel.describe(), added.build));
        send(identity, encode(MessageType::Welcome,
                              {{QStringLiteral("heartbeat_ms"), options.heartbeatMs},
                               {QStringLiteral("max_message_bytes"), qint64(options.maxMessageBytes)}}));
        if (binding) sendPrepare(added);
        return;
    }
    if (it == sessions.end()) { // a worker we do not know (or dropped; or this pool is new): hello first
        if (m.type != MessageType::Bye)
            send(identity, encode(MessageType::Reject, {{QStringLiteral("reason"),
                                                         QStringLiteral("unknown worker: say hello first")},
                                                        {QStringLiteral("hello"), true}}));
        return;
    }
    handleMessage(it->second, m);
}

void WorkerPool::Impl::sendPrepare(Session &s) {
    QCborMap f{{QStringLiteral("run"), qint64(binding->run)},
               {QStringLiteral("spec"), QCborValue::fromJsonValue(binding->spec)},
               {QStringLiteral("dataset_digest"), binding->datasetDigest},
               {QStringLiteral("partition_digest"), binding->partitionDigest},
               {QStringLiteral("parameters"), qint64(binding->parameterCount)},
               {QStringLiteral("portable"), binding->portable}};
    post(s.identity, encode(MessageType::Prepare, f));
    s.state = State::Preparing;
    s.note.clear();
}

void WorkerPool::Impl::handleMessage(Session &s, const Message &m) {
    const auto runOf = [&] { return quint64(cborInteger(m.fields.value(QStringLiteral("run")), 0)); };
    switch (m.type) {
    case MessageType::Heartbeat:
        return;
    case MessageType::Ready: {
        if (!binding || runOf() != binding->run || s.state != State::Preparing) return; // of an earlier run
        const QString dataset = m.fields.value(QStringLiteral("dataset_digest")).toString();
        const QString partition = m.fields.value(QStringLiteral("partition_digest")).toString();
        if (dataset != binding->datasetDigest || partition != binding->partitionDigest) {
            s.state = State::Refused;
            s.note =
                dataset != binding->datasetDigest
                    ? QStringLiteral("its dataset differs from the coordinator's (digest %1, expected %2)")
                          .arg(dataset.left(12), binding->datasetDigest.left(12))
                    : QStringLiteral("its partition differs from the coordinator's (another build?)");
            log(QStringLiteral("worker %1 refused: %2").arg(s.name, s.note));
            return;
        }
        if (binding->portable && !(s.kernel == portableKernelSettings())) {
            s.state = State::Refused;
            s.note = QStringLiteral(
                         "run.portable is on but it computes with %1: start it with fedwb-worker --portable")
                         .arg(s.kernel.describe());
            log(QStringLiteral("worker %1 refused: %2").arg(s.name, s.note));
            return;
        }
        s.state = State::Ready;
        log(QStringLiteral("worker %1 is ready for the run").arg(s.name));
        if (!binding->portable && !(s.kernel == ownKernel))
            log(QStringLiteral(
                    "note: worker %1 computes with %2, the coordinator with %3: results may differ in "
                    "the last bits from a local run (run.portable pins both)")
                    .arg(s.name, s.kernel.describe(), ownKernel.describe()));
        return;
    }
    case MessageType::Refuse:
        if (!binding || runOf() != binding->run) return;
        s.state = State::Refused;
        s.note = m.fields.value(QStringLiteral("reason")).toString().left(2000);
        log(QStringLiteral("worker %1 cannot take part in this run: %2").arg(s.name, s.note));
        requeue(s);
        return;
    case MessageType::Result:
        handleResult(s, m);
        return;
    case MessageType::Failed: {
        if (!binding || runOf() != binding->run || !batch) return;
        const QString id = m.fields.value(QStringLiteral("id")).toString();
        const auto t = batch->byId.find(id);
        if (t == batch->byId.end() || batch->tasks[t->second].done) return;
        batch->failure = QStringLiteral("worker %1: client %2 in round %3 failed: %4")
                             .arg(s.name)
                             .arg(batch->tasks[t->second].client)
                             .arg(batch->tasks[t->second].round)
                             .arg(m.fields.value(QStringLiteral("reason")).toString().left(2000));
        changed.notify_all();
        return;
    }
    case MessageType::Bye: {
        const QByteArray id = s.identity;
        dropSession(id, QStringLiteral("left"), false);
        return;
    }
    default: {
        const int count = ++badMessages[s.identity];
        if (count <= kBadMessagesLogged)
            log(QStringLiteral("ignored a %1 message from worker %2 (coordinators do not take it)")
                    .arg(messageTypeName(m.type), s.name));
        return;
    }
    }
}

void WorkerPool::Impl::handleResult(Session &s, const Message &m) {
    const QString id = m.fields.value(QStringLiteral("id")).toString();
    if (!binding || quint64(cborInteger(m.fields.value(QStringLiteral("run")), 0)) != binding->run || !batch)
        return;
    const auto t = batch->byId.find(id);
    if (t == batch->byId.end()) return; // of another round
    Pending &task = batch->tasks[t->second];
    s.inFlight.erase(id);
    if (const auto sent = s.sentAt.find(id); sent != s.sentAt.end()) {
        const double seconds = secondsSince(sent->second);
        s.secondsPerTask = s.secondsPerTask > 0 ? 0.7 * s.secondsPerTask + 0.3 * seconds : seconds;
        s.sentAt.erase(sent);
    }
    if (task.done) {
        ++duplicates;
        log(QStringLiteral(
                "ignored a late duplicate result of client %1 in round %2 from worker %3 (already counted)")
                .arg(task.client)
                .arg(task.round)
                .arg(s.name));
        return;
    }
    QString error;
    std::optional<ClientResult> r =
        ClientResult::fromCbor(m.fields.value(QStringLiteral("result")).toMap(), &error);
    if (r && (r->round != task.round || r->clientId != task.client))
        error = QStringLiteral("result of client %1 round %2 under the id of client %3 round %4")
                    .arg(r->clientId)
                    .arg(r->round)
                    .arg(task.client)
                    .arg(task.round);
    else if (r && r->status == ClientStatus::Ok)
        error = checkFloat32(r->update, binding->parameterCount, QStringLiteral("update"));
    const KernelSettings kernel = KernelSettings::fromCbor(m.fields.value(QStringLiteral("kernel")).toMap());
    if (r && error.isEmpty() && binding->portable && !(kernel == portableKernelSettings()))
        error =
            QStringLiteral("run.portable is on but the result was computed with %1").arg(kernel.describe());
    if (!r || !error.isEmpty()) {
        s.state = State::Refused;
        s.note = QStringLiteral("sent a bad result: %1").arg(error);
        log(QStringLiteral("worker %1: %2; its tasks go to other workers").arg(s.name, s.note));
        requeue(s);
        if (!task.done && task.assignedTo == s.identity) {
            task.assignedTo.clear();
            batch->queue.push_front(t->second);
        }
        return;
    }
    r->worker = s.name;
    ++s.done;
    task.done = true;
    batch->finished.emplace_back(t->second, std::move(*r));
    // Re-dispatched elsewhere meanwhile: the other copy is no longer needed.
    if (!task.assignedTo.isEmpty() && task.assignedTo != s.identity)
        if (auto other = sessions.find(task.assignedTo); other != sessions.end()) {
            other->second.inFlight.erase(id);
            other->second.sentAt.erase(id);
            send(other->first, encode(MessageType::Cancel, {{QStringLiteral("run"), qint64(binding->run)},
                                                            {QStringLiteral("ids"), QCborArray{id}}}));
        }
    changed.notify_all();
}

// The tasks a worker holds go back to the front of the queue.
void WorkerPool::Impl::requeue(Session &s) {
    if (batch)
        for (const QString &id : s.inFlight)
            if (const auto t = batch->byId.find(id); t != batch->byId.end()) {
                Pending &task = batch->tasks[t->second];
                if (!task.done && task.assignedTo == s.identity) {
                    task.assignedTo.clear();
                    batch->queue.push_front(t->second);
                }
            }
    s.inFlight.clear();
    s.sentAt.clear();
}

void WorkerPool::Impl::dropSession(const QByteArray &identity, const QString &why, bool lost) {
    auto it = sessions.find(identity);
    if (it == sessions.end()) return;
    Departed gone{infoOf(it->second), it->second.lastSeen};
    gone.info.state = lost ? QStringLiteral("lost") : QStringLiteral("left");
    gone.info.note = why;
    gone.info.inFlight = 0;
    departed.push_front(std::move(gone));
    if (departed.size() > kDepartedKept) departed.pop_back();
    const int held = int(it->second.inFlight.size());
    log(QStringLiteral("worker %1 %2%3")
            .arg(it->second.name, why,
                 held == 1 ? QStringLiteral("; its task goes to other workers")
                 : held    ? QStringLiteral("; its %1 tasks go to other workers").arg(held)
                           : QString()));
    requeue(it->second);
    sessions.erase(it);
    badMessages.erase(identity);
    changed.notify_all();
}

void WorkerPool::Impl::timers(Clock::time_point &lastBeat) {
    const auto now = Clock::now();
    if (now - lastBeat >= std::chrono::milliseconds(options.heartbeatMs)) {
        lastBeat = now;
        std::vector<QByteArray> gone;
        for (auto &[id, s] : sessions)
            if (!send(id, encode(MessageType::Heartbeat, {{QStringLiteral("busy"), int(s.inFlight.size())}})))
                gone.push_back(id);
        for (const QByteArray &id : gone)
            dropSession(id, QStringLiteral("is unreachable"), true);
    }
    std::vector<QByteArray> silent;
    for (auto &[id, s] : sessions)
        if (now - s.lastSeen > std::chrono::milliseconds(options.heartbeatTimeoutMs)) silent.push_back(id);
    for (const QByteArray &id : silent)
        dropSession(
            id, QStringLiteral("was lost (no heartbeat for %1 s)").arg(options.heartbeatTimeoutMs / 1000.0),
            true);
    if (!batch || !binding) return;
    for (std::size_t i = 0; i < batch->tasks.size(); ++i) {
        Pending &t = batch->tasks[i];
        if (t.done || t.local || t.assignedTo.isEmpty() || now < t.deadline) continue;
        log(QStringLiteral(
                "client %1 in round %2 has no result from %3 after %4 s (task timeout): dealt out again")
                .arg(t.client)
                .arg(t.round)
                .arg(nameOf(t.assignedTo))
                .arg(binding->taskTimeoutSeconds));
        // It stays in the slow worker's slots (its result is still taken if it comes first).
        t.assignedTo.clear();
        batch->queue.push_back(i);
    }
}

// Deals the queued tasks to ready workers with free threads, the fastest measured first (an unmeasured one
// first of all, to measure it).
void WorkerPool::Impl::dispatch() {
    if (!batch || !binding || batch->cancelled) return;
    while (!batch->queue.empty()) {
        const std::size_t index = batch->queue.front();
        Pending &t = batch->tasks[index];
        if (t.done || t.local || !t.assignedTo.isEmpty()) {
            batch->queue.pop_front();
            continue;
        }
        Session *best = nullptr;
        double bestRate = -1;
        for (auto &[id, s] : sessions) {
            if (s.state != State::Ready || int(s.inFlight.size()) >= s.threads || s.inFlight.count(t.id))
                continue;
            const double rate = s.secondsPerTask > 0 ? s.threads / s.secondsPerTask : 1e300;
            if (rate > bestRate) {
                best = &s;
                bestRate = rate;
            }
        }
        if (!best) return;
        batch->queue.pop_front();
        if (!send(best->identity, t.message)) {
            dropSession(best->identity, QStringLiteral("is unreachable"), true);
            batch->queue.push_front(index);
            continue;
        }
        t.assignedTo = best->identity;
        t.deadline = Clock::now() + std::chrono::milliseconds(qint64(binding->taskTimeoutSeconds * 1000));
        best->inFlight.insert(t.id);
        best->sentAt[t.id] = Clock::now();
    }
}

// --- RemoteExecutor
// -----------------------------------------------------------------------------------------

RemoteExecutor::RemoteExecutor(WorkerPool &pool, const ExecutorSetup &setup, RemoteOptions options)
    : m_pool(pool)
    , m_options(options)
    , m_local(setup.local)
    , m_stop(setup.stop)
    , m_message(setup.message) {
    WorkerPool::Impl &p = *m_pool.d;
    WorkerPool::Impl::Binding b;
    std::random_device random;
    b.run = (quint64(random()) << 31 ^ quint64(random())) & 0x7fffffffffffffffULL; // a CBOR positive integer
    b.spec = setup.spec.json();
    b.datasetDigest = setup.datasetDigest;
    b.partitionDigest = setup.partitionDigest;
    b.parameterCount = setup.parameterCount;
    b.portable = setup.spec.boolean(QStringLiteral("run.portable"));
    b.taskTimeoutSeconds = options.taskTimeoutSeconds;
    // Every task and result carries the model as float32: a model over the limit cannot train remotely.
    if (const std::int64_t least = b.parameterCount * std::int64_t(sizeof(float));
        least > p.options.maxMessageBytes)
        throw SpecError(
            QString(), QStringLiteral("the model has %1 parameters, so every task and result is at least %2, "
                                      "over the message limit of %3 (--max-message-mb)")
                           .arg(b.parameterCount)
                           .arg(describeBytes(least), describeBytes(p.options.maxMessageBytes)));
    {
        std::lock_guard lock(p.mutex);
        p.binding = b;
        for (auto &[id, s] : p.sessions)
            p.sendPrepare(s);
    }
    p.wake();
    waitForWorkers();
}

// Before the first round: --min-workers ready workers (they prepare their data meanwhile).
void RemoteExecutor::waitForWorkers() {
    WorkerPool::Impl &p = *m_pool.d;
    std::unique_lock lock(p.mutex);
    const auto ready = [&] {
        return int(std::count_if(p.sessions.begin(), p.sessions.end(), [](const auto &s) {
            return s.second.state == WorkerPool::Impl::State::Ready;
        }));
    };
    int announced = -1;
    const Clock::time_point since = Clock::now();
    while (ready() < m_options.minWorkers && !m_stop.load() && !m_cancelled.load()) {
        if (m_options.fallbackAfterSeconds >= 0 && secondsSince(since) >= m_options.fallbackAfterSeconds) {
            lock.unlock();
            m_message(QStringLiteral("%1 of %2 workers ready after %3 s: starting (--fallback-local)")
                          .arg(ready())
                          .arg(m_options.minWorkers)
                          .arg(m_options.fallbackAfterSeconds));
            return;
        }
        if (ready() != announced) {
            announced = ready();
            const QString text = QStringLiteral("waiting for %1 worker%2 on %3 (%4 ready)")
                                     .arg(m_options.minWorkers)
                                     .arg(m_options.minWorkers == 1 ? "" : "s")
                                     .arg(p.endpoint)
                                     .arg(announced);
            lock.unlock();
            m_message(text);
            lock.lock();
        }
        p.changed.wait_for(lock, std::chrono::milliseconds(100));
    }
}

RemoteExecutor::~RemoteExecutor() {
    WorkerPool::Impl &p = *m_pool.d;
    std::lock_guard lock(p.mutex);
    p.binding.reset();
    for (auto &[id, s] : p.sessions)
        if (s.state != WorkerPool::Impl::State::Refused || s.note.isEmpty())
            s.state = WorkerPool::Impl::State::Joined;
}

void RemoteExecutor::cancel() {
    m_cancelled.store(true);
}

QString RemoteExecutor::describe() const {
    const int ready = m_pool.readyWorkers();
    return QStringLiteral("remote: %1 worker%2 on %3")
        .arg(ready)
        .arg(ready == 1 ? "" : "s")
        .arg(m_pool.endpoint());
}

void RemoteExecutor::run(const std::vector<ClientTask> &tasks, const Sink &sink) {
    WorkerPool::Impl &p = *m_pool.d;
    using Impl = WorkerPool::Impl;
    const auto stopped = [&] { return m_stop.load() || m_cancelled.load(); };
    Impl::Batch batch;
    {
        std::lock_guard lock(p.mutex);
        const quint64 run = p.binding->run;
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            Impl::Pending t;
            t.round = tasks[i].round;
            t.client = tasks[i].clientId;
            t.id = QStringLiteral("r%1c%2").arg(t.round).arg(t.client);
            t.message = encode(MessageType::Task, {{QStringLiteral("run"), qint64(run)},
                                                   {QStringLiteral("id"), t.id},
                                                   {QStringLiteral("task"), tasks[i].toCbor()}});
            if (t.message.size() > p.options.maxMessageBytes) // the model and its state (control variates)
                throw SpecError(
                    QString(),
                    QStringLiteral("round %1, client %2: the task message is %3 bytes (%4), over "
                                   "the message limit of %5 (--max-message-mb)")
                        .arg(t.round)
                        .arg(t.client)
                        .arg(t.message.size())
                        .arg(describeBytes(t.message.size()), describeBytes(p.options.maxMessageBytes)));
            batch.byId[t.id] = i;
            batch.queue.push_back(i);
            batch.tasks.push_back(std::move(t));
        }
    }
    std::unique_lock lock(p.mutex);
    p.batch = &batch;
    lock.unlock();
    p.wake();
    lock.lock();
    int done = 0;
    const int total = int(tasks.size());
    Clock::time_point idleSince{};
    bool waitingAnnounced = false;
    std::exception_ptr failure;
    while (done < total) {
        while (!batch.finished.empty()) {
            auto [index, result] = std::move(batch.finished.front());
            batch.finished.pop_front();
            lock.unlock();
            sink(index, std::move(result), ++done);
            lock.lock();
        }
        if (done == total) break;
        if (!batch.failure.isEmpty()) {
            failure = std::make_exception_ptr(std::runtime_error(batch.failure.toStdString()));
            break;
        }
        if (stopped()) break;
        const bool anyReady = std::any_of(p.sessions.begin(), p.sessions.end(),
                                          [](const auto &s) { return s.second.state == Impl::State::Ready; });
        if (anyReady) {
            idleSince = {};
            waitingAnnounced = false;
        } else {
            if (idleSince == Clock::time_point{}) idleSince = Clock::now();
            if (!waitingAnnounced) {
                waitingAnnounced = true;
                const QString text =
                    QStringLiteral(
                        "no worker is ready: waiting for workers to connect to %1 (%2 of %3 clients of "
                        "round %4 still to train)%5")
                        .arg(p.endpoint)
                        .arg(total - done)
                        .arg(total)
                        .arg(tasks.front().round)
                        .arg(m_options.fallbackAfterSeconds >= 0
                                 ? QStringLiteral("; training on this machine after %1 s")
                                       .arg(m_options.fallbackAfterSeconds)
                                 : QString());
                lock.unlock();
                m_message(text);
                lock.lock();
            }
            if (m_options.fallbackAfterSeconds >= 0 &&
                secondsSince(idleSince) >= m_options.fallbackAfterSeconds) {
                // Every task not yet done (and not held by a worker) trains here.
                std::vector<ClientTask> local;
                std::vector<std::size_t> slots;
                for (std::size_t i = 0; i < batch.tasks.size(); ++i)
                    if (!batch.tasks[i].done && batch.tasks[i].assignedTo.isEmpty()) {
                        batch.tasks[i].local = true;
                        local.push_back(tasks[i]);
                        slots.push_back(i);
                    }
                lock.unlock();
                m_message(QStringLiteral("no worker for %1 s: training %2 client%3 on this machine")
                              .arg(m_options.fallbackAfterSeconds)
                              .arg(local.size())
                              .arg(local.size() == 1 ? "" : "s"));
                m_local.run(local, [&](std::size_t k, ClientResult &&r, int) {
                    {
                        std::lock_guard guard(p.mutex);
                        if (batch.tasks[slots[k]].done) return;
                        batch.tasks[slots[k]].done = true;
                    }
                    sink(slots[k], std::move(r), ++done);
                });
                lock.lock();
                idleSince = {};
                waitingAnnounced = false;
                continue;
            }
        }
        p.changed.wait_for(lock, std::chrono::milliseconds(100));
    }
    // Whatever is unfinished is stopped; workers drop what they hold of it.
    batch.cancelled = true;
    std::map<QByteArray, QCborArray> held;
    for (Impl::Pending &t : batch.tasks)
        if (!t.done && !t.assignedTo.isEmpty()) held[t.assignedTo].append(t.id);
    for (auto &[id, s] : p.sessions) {
        for (const QString &t : s.inFlight)
            if (batch.byId.count(t)) held[id].append(t);
        s.inFlight.clear();
        s.sentAt.clear();
    }
    for (const auto &[id, ids] : held)
        p.post(id, encode(MessageType::Cancel,
                          {{QStringLiteral("run"), qint64(p.binding->run)}, {QStringLiteral("ids"), ids}}));
    p.batch = nullptr;
    lock.unlock();
    p.wake();
    lock.lock();
    std::vector<std::size_t> unfinished;
    for (std::size_t i = 0; i < batch.tasks.size(); ++i)
        if (!batch.tasks[i].done) unfinished.push_back(i);
    lock.unlock();
    if (failure) std::rethrow_exception(failure);
    for (const std::size_t i : unfinished) {
        ClientResult r;
        r.round = tasks[i].round;
        r.clientId = tasks[i].clientId;
        r.status = ClientStatus::Stopped;
        sink(i, std::move(r), ++done);
    }
}

} // namespace fedwb::remote
