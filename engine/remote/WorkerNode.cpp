#include "remote/WorkerNode.h"
#include "util/Cbor.h"

#include "remote/Portable.h"
#include "remote/data_digest_p.h"
#include "spec/SpecError.h"
#include "train/trainer_p.h"

#include <QCborArray>
#include <QCborValue>

#include <zmq.hpp>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unistd.h>

namespace fedwb::remote {

namespace {

using Clock = std::chrono::steady_clock;
const char *kResultsEndpoint = "inproc://fedwb-worker-results";

// The data of one run, rebuilt from its workspace.
struct Prepared {
    quint64 run = 0;
    std::shared_ptr<const LoadedDataset> data;
    std::vector<ClientShard> shards;
    QString modelName;
    QJsonObject modelParams;
    std::int64_t parameterCount = 0;
};

struct Job {
    quint64 run = 0;
    QString id;
    ClientTask task;
    std::shared_ptr<const Prepared> prepared;
    std::shared_ptr<std::atomic<bool>> cancel;
};

// Worker threads: one intra-op thread each, one model replica each (as the local executor trains). Finished
// messages go to the main thread over an inproc socket per thread.
class Trainers {
public:
    Trainers(zmq::context_t &context, int threads, const std::atomic<bool> &stop)
        : m_stop(stop) {
        for (int i = 0; i < threads; ++i)
            m_threads.emplace_back([this, &context] { work(context); });
    }
    ~Trainers() {
        {
            std::lock_guard lock(m_mutex);
            m_quit = true;
        }
        m_changed.notify_all();
        for (auto &t : m_threads)
            t.join();
    }
    void add(Job job) {
        {
            std::lock_guard lock(m_mutex);
            m_flags[job.id] = job.cancel;
            m_queue.push_back(std::move(job));
        }
        m_changed.notify_one();
    }
    void cancel(const QString &id) {
        std::lock_guard lock(m_mutex);
        if (auto it = m_flags.find(id); it != m_flags.end()) it->second->store(true);
        std::erase_if(m_queue, [&](const Job &j) { return j.id == id; });
    }
    void cancelAll() {
        std::lock_guard lock(m_mutex);
        for (auto &[id, flag] : m_flags)
            flag->store(true);
        m_queue.clear();
    }
    int busy() const {
        std::lock_guard lock(m_mutex);
        return int(m_flags.size());
    }
    // The largest message the coordinator takes (from its welcome; 0: not told). A result over it is
    // reported as a failure instead: the coordinator's socket would drop the connection without a word.
    void setPeerLimit(std::int64_t bytes) { m_peerLimit.store(bytes); }

private:
    void work(zmq::context_t &context) {
        at::set_num_threads(1);
        zmq::socket_t out(context, zmq::socket_type::push);
        out.set(zmq::sockopt::linger, 0);
        out.connect(kResultsEndpoint);
        std::unique_ptr<ClientTrainer> trainer;
        const Prepared *trainerFor = nullptr;
        for (;;) {
            Job job;
            {
                std::unique_lock lock(m_mutex);
                m_changed.wait(lock, [&] { return m_quit || !m_queue.empty(); });
                if (m_quit) break;
                job = std::move(m_queue.front());
                m_queue.pop_front();
            }
            QByteArray message;
            try {
                if (trainerFor != job.prepared.get()) { // a new run: a replica of its model
                    trainer = std::make_unique<ClientTrainer>(
                        job.prepared->modelName, job.prepared->data->facts, job.prepared->modelParams);
                    trainerFor = job.prepared.get();
                }
                const ClientShard &shard = job.prepared->shards.at(std::size_t(job.task.clientId));
                ClientResult r =
                    trainer->run(job.task, localDataOf(*job.prepared->data, shard), job.cancel.get());
                if (!job.cancel->load() && !m_stop.load())
                    message = encode(MessageType::Result,
                                     {{QStringLiteral("run"), qint64(job.run)},
                                      {QStringLiteral("id"), job.id},
                                      {QStringLiteral("result"), r.toCbor()},
                                      {QStringLiteral("kernel"), currentKernelSettings().toCbor()}});
                if (const std::int64_t limit = m_peerLimit.load(); limit > 0 && message.size() > limit)
                    message =
                        failed(job, QStringLiteral("its result is %1 bytes (%2), over the coordinator's "
                                                   "message limit of %3 (--max-message-mb)")
                                        .arg(message.size())
                                        .arg(describeBytes(message.size()), describeBytes(limit)));
            } catch (const c10::Error &e) {
                message = failed(job, QString::fromStdString(e.what_without_backtrace()));
            } catch (const std::exception &e) {
                message = failed(job, QString::fromStdString(e.what()));
            }
            {
                std::lock_guard lock(m_mutex);
                m_flags.erase(job.id);
            }
            if (!message.isEmpty()) out.send(zmq::buffer(message.constData(), std::size_t(message.size())));
        }
    }
    static QByteArray failed(const Job &job, const QString &reason) {
        return encode(MessageType::Failed, {{QStringLiteral("run"), qint64(job.run)},
                                            {QStringLiteral("id"), job.id},
                                            {QStringLiteral("reason"), reason}});
    }

    const std::atomic<bool> &m_stop;
    std::atomic<std::int64_t> m_peerLimit{0};
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<Job> m_queue;
    std::map<QString, std::shared_ptr<std::atomic<bool>>> m_flags; // queued or running
    bool m_quit = false;
    std::vector<std::thread> m_threads;
};

// Rebuilds a run's data from the workspace the coordinator sent and compares the digests: the Ready or Refuse
// message, and the prepared data when it is ready.
QByteArray prepareRun(const Message &m, const WorkerOptions &options, std::shared_ptr<const Prepared> *out,
                      std::map<QString, QString> *digests) {
    const quint64 run = quint64(cborInteger(m.fields.value(QStringLiteral("run")), 0));
    const auto refuse = [&](const QString &reason) {
        return encode(MessageType::Refuse,
                      {{QStringLiteral("run"), qint64(run)}, {QStringLiteral("reason"), reason}});
    };
    if (m.fields.value(QStringLiteral("portable")).toBool())
        if (const QString why = portableMismatch(); !why.isEmpty())
            return refuse(
                QStringLiteral("run.portable is on, but this worker does not run with the portable kernel "
                               "settings (%1): start it with fedwb-worker --portable")
                    .arg(why));
    // Every task and result carries the model as float32: tell the coordinator at once when it cannot fit.
    if (const std::int64_t least =
            cborInteger(m.fields.value(QStringLiteral("parameters")), 0) * std::int64_t(sizeof(float));
        least > options.maxMessageBytes)
        return refuse(
            QStringLiteral("the model's tasks are at least %1, over this worker's message limit of %2 "
                           "(fedwb-worker --max-message-mb)")
                .arg(describeBytes(least), describeBytes(options.maxMessageBytes)));
    QJsonObject json = m.fields.value(QStringLiteral("spec")).toMap().toJsonObject();
    if (!options.datasetPath.isEmpty()) {
        QJsonObject dataset = json.value(QStringLiteral("dataset")).toObject();
        dataset.insert(QStringLiteral("path"), options.datasetPath);
        json.insert(QStringLiteral("dataset"), dataset);
    }
    const FederationSpec::Parsed parsed = FederationSpec::parse(json);
    if (!parsed.ok()) {
        QStringList problems;
        for (const SpecIssue &i : parsed.errors)
            problems << i.path + QStringLiteral(": ") + i.message;
        return refuse(QStringLiteral("the workspace does not validate here (another version?): ") +
                      problems.join(QStringLiteral("; ")));
    }
    const FederationSpec &spec = *parsed.spec;
    auto p = std::make_shared<Prepared>();
    p->run = run;
    try {
        p->data = loadDataset(spec);
        p->shards = partitionFor(spec, *p->data);
        p->modelName = spec.string(QStringLiteral("model.name"));
        p->modelParams = spec.section(QStringLiteral("model"));
        FlatModel init(p->modelName, p->data->facts, p->modelParams, spec.seed());
        p->parameterCount = init.flat().numel();
    } catch (const SpecError &e) {
        return refuse(
            QStringLiteral("cannot rebuild the data here: %1").arg(QString::fromStdString(e.what())));
    } catch (const std::exception &e) {
        return refuse(
            QStringLiteral("cannot rebuild the data here: %1").arg(QString::fromStdString(e.what())));
    }
    const QString dataset = datasetDigest(*p->data), partition = partitionDigest(p->shards);
    (*digests)[p->data->name] = dataset;
    const QString wantDataset = m.fields.value(QStringLiteral("dataset_digest")).toString();
    const QString where =
        spec.json().value(QStringLiteral("dataset")).toObject().contains(QStringLiteral("path"))
            ? QStringLiteral(" at dataset.path %1").arg(spec.string(QStringLiteral("dataset.path")))
            : QString();
    if (dataset != wantDataset)
        return refuse(
            QStringLiteral("dataset %1%2 differs from the coordinator's (content digest %3, the "
                           "coordinator's %4): give this worker the same data files (--dataset-path)")
                .arg(p->data->name, where, dataset.left(16), wantDataset.left(16)));
    if (partition != m.fields.value(QStringLiteral("partition_digest")).toString())
        return refuse(
            QStringLiteral("the partition rebuilt here differs from the coordinator's (another build of "
                           "FedWorkbench?)"));
    if (p->parameterCount != cborInteger(m.fields.value(QStringLiteral("parameters")), 0))
        return refuse(QStringLiteral("the model here has %1 parameters, the coordinator's %2")
                          .arg(p->parameterCount)
                          .arg(cborInteger(m.fields.value(QStringLiteral("parameters")), 0)));
    *out = std::move(p);
    return encode(MessageType::Ready, {{QStringLiteral("run"), qint64(run)},
                                       {QStringLiteral("dataset_digest"), dataset},
                                       {QStringLiteral("partition_digest"), partition}});
}

QByteArray randomIdentity() {
    std::random_device random;
    QByteArray id(12, '\0');
    for (char &c : id)
        c = char(random() & 0xff);
    id[0] = 'w'; // routing ids must not start with a zero byte
    return id;
}

} // namespace

int runWorker(const WorkerOptions &options, const std::atomic<bool> &stop,
              const std::function<void(const QString &)> &log) {
    zmq::context_t context;
    zmq::socket_t results(context, zmq::socket_type::pull);
    results.bind(kResultsEndpoint);
    Trainers trainers(context, std::max(1, options.threads), stop);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const QString name = options.name.isEmpty()
                             ? QStringLiteral("%1-%2").arg(QString::fromLocal8Bit(host)).arg(::getpid())
                             : options.name;
    std::shared_ptr<const Prepared> prepared;
    std::mutex preparedMutex;
    std::map<QString, QString> digests; // datasets this worker has rebuilt, by name
    std::thread preparer;
    const auto finish = [&](int code) { // nothing of this worker runs on after it returns
        trainers.cancelAll();
        if (preparer.joinable()) preparer.join();
        return code;
    };
    int backoffMs = 1000;
    int connection = 0;
    while (!stop.load()) {
        zmq::socket_t socket(context, zmq::socket_type::dealer);
        socket.set(zmq::sockopt::routing_id, zmq::buffer(randomIdentity().toStdString()));
        socket.set(zmq::sockopt::linger, 500);
        socket.set(zmq::sockopt::maxmsgsize, options.maxMessageBytes + 4096);
        if (options.curve) {
            socket.set(zmq::sockopt::curve_serverkey, options.serverKey.toStdString());
            socket.set(zmq::sockopt::curve_publickey, options.curve->publicKey.toStdString());
            socket.set(zmq::sockopt::curve_secretkey, options.curve->secretKey.toStdString());
        }
        const std::string monitorEndpoint = "inproc://fedwb-worker-monitor-" + std::to_string(++connection);
        zmq_socket_monitor(socket.handle(), monitorEndpoint.c_str(),
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
        zmq::socket_t monitor(context, zmq::socket_type::pair);
        monitor.connect(monitorEndpoint);
        try {
            socket.connect(options.connect.toStdString());
        } catch (const zmq::error_t &e) {
            log(QStringLiteral("--connect %1: %2").arg(options.connect, QString::fromLocal8Bit(e.what())));
            return kWorkerRejected;
        }
        const auto send = [&](const QByteArray &bytes) {
            socket.send(zmq::buffer(bytes.constData(), std::size_t(bytes.size())), zmq::send_flags::dontwait);
        };
        const KernelSettings kernel = currentKernelSettings();
        const auto sayHello = [&] {
            QCborArray datasets;
            {
                std::lock_guard lock(preparedMutex); // the preparer adds to them
                for (const auto &[dataset, digest] : digests)
                    datasets.append(
                        QCborMap{{QStringLiteral("name"), dataset}, {QStringLiteral("digest"), digest}});
            }
            send(encode(MessageType::Hello, {{QStringLiteral("name"), name},
                                             {QStringLiteral("build"), QStringLiteral(FEDWB_VERSION)},
                                             {QStringLiteral("threads"), std::max(1, options.threads)},
                                             {QStringLiteral("device"), QStringLiteral("cpu")},
                                             {QStringLiteral("kernel"), kernel.toCbor()},
                                             {QStringLiteral("portable"), kernel == portableKernelSettings()},
                                             {QStringLiteral("datasets"), datasets}}));
        };
        sayHello();
        log(QStringLiteral("connecting to %1 as %2 (%3 thread%4, %5)")
                .arg(options.connect, name)
                .arg(std::max(1, options.threads))
                .arg(options.threads == 1 ? "" : "s")
                .arg(kernel.describe()));
        auto lastHeard = Clock::now(), lastBeat = Clock::now();
        int heartbeatMs = 1000;
        bool welcomed = false, lost = false;
        bool helloAgain = false; // said hello again to a coordinator that did not know this connection
        while (!stop.load() && !lost) {
            std::vector<zmq::pollitem_t> items{{socket.handle(), 0, ZMQ_POLLIN, 0},
                                               {results.handle(), 0, ZMQ_POLLIN, 0},
                                               {monitor.handle(), 0, ZMQ_POLLIN, 0}};
            try {
                zmq::poll(items, std::chrono::milliseconds(50));
            } catch (const zmq::error_t &) { // EINTR: a signal; the loop checks `stop`
            }
            if (items[2].revents & ZMQ_POLLIN) {
                zmq::message_t event, address;
                if (monitor.recv(event, zmq::recv_flags::dontwait) && event.more())
                    (void)monitor.recv(address, zmq::recv_flags::dontwait);
                std::uint16_t id = 0;
                if (event.size() >= 2) std::memcpy(&id, event.data(), 2);
                if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
                    log(QStringLiteral(
                            "the coordinator at %1 refused this worker's key (it is not on the "
                            "coordinator's allow-list, --allow): give its operator the public key %2")
                            .arg(options.connect,
                                 options.curve ? QString::fromLatin1(options.curve->publicKey) : QString()));
                    return finish(kWorkerRejected);
                }
                if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
                    log(QStringLiteral(
                            "handshake with %1 failed: is it a FedWorkbench coordinator with the same "
                            "security settings (--server-key / --insecure)?")
                            .arg(options.connect));
            }
            while (items[1].revents & ZMQ_POLLIN) { // finished work of the trainers and the preparer
                zmq::message_t out;
                if (!results.recv(out, zmq::recv_flags::dontwait)) break;
                socket.send(out, zmq::send_flags::dontwait);
            }
            for (int n = 0; n < 64; ++n) {
                zmq::message_t frame;
                if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
                const QByteArray bytes(frame.data<char>(), qsizetype(frame.size()));
                const Decoded decoded = decode(bytes, options.maxMessageBytes);
                if (!decoded.message) {
                    log(QStringLiteral("ignored a message from the coordinator: %1").arg(decoded.error));
                    continue;
                }
                lastHeard = Clock::now();
                const Message &m = *decoded.message;
                switch (m.type) {
                case MessageType::Welcome:
                    welcomed = true;
                    helloAgain = false;
                    backoffMs = 1000;
                    heartbeatMs = int(std::clamp<qint64>(
                        cborInteger(m.fields.value(QStringLiteral("heartbeat_ms")), 0), 50, 60000));
                    trainers.setPeerLimit(std::max<qint64>(
                        0, cborInteger(m.fields.value(QStringLiteral("max_message_bytes")), 0)));
                    log(QStringLiteral("connected to %1").arg(options.connect));
                    break;
                case MessageType::Reject:
                    // A coordinator that does not know this connection (it was restarted on the same address,
                    // or it lost this worker): not refused, so start over there.
                    if (m.fields.value(QStringLiteral("hello")).toBool()) {
                        if (!helloAgain) {
                            log(QStringLiteral(
                                    "the coordinator at %1 does not know this worker (restarted?): "
                                    "saying hello again")
                                    .arg(options.connect));
                            trainers.cancelAll(); // its tasks, if any, are dealt out again there
                            sayHello();
                            helloAgain = true;
                        }
                        break;
                    }
                    [[fallthrough]];
                case MessageType::Stop: {
                    const bool rejected = m.type == MessageType::Reject;
                    log((rejected ? QStringLiteral("the coordinator refused this worker: %1")
                                  : QStringLiteral("told to stop: %1"))
                            .arg(m.fields.value(QStringLiteral("reason")).toString()));
                    return finish(rejected ? kWorkerRejected : kWorkerStopped);
                }
                case MessageType::Prepare: {
                    if (preparer.joinable()) preparer.join(); // one preparation at a time
                    log(QStringLiteral("preparing the data of run %1")
                            .arg(quint64(cborInteger(m.fields.value(QStringLiteral("run")), 0)), 0, 16));
                    preparer = std::thread([&, m] {
                        at::set_num_threads(1);
                        std::shared_ptr<const Prepared> p;
                        std::map<QString, QString> found;
                        const QByteArray reply = prepareRun(m, options, &p, &found);
                        {
                            std::lock_guard lock(preparedMutex);
                            if (p) prepared = p;
                            for (const auto &[k, v] : found)
                                digests[k] = v;
                        }
                        if (!p)
                            log(QStringLiteral("refused the run: %1")
                                    .arg(decode(reply)
                                             .message->fields.value(QStringLiteral("reason"))
                                             .toString()));
                        else
                            log(QStringLiteral("ready: dataset %1, %2 clients")
                                    .arg(p->data->name)
                                    .arg(p->shards.size()));
                        zmq::socket_t out(context, zmq::socket_type::push);
                        out.set(zmq::sockopt::linger, 0);
                        out.connect(kResultsEndpoint);
                        out.send(zmq::buffer(reply.constData(), std::size_t(reply.size())));
                    });
                    break;
                }
                case MessageType::Task: {
                    const quint64 run = quint64(cborInteger(m.fields.value(QStringLiteral("run")), 0));
                    const QString id = m.fields.value(QStringLiteral("id")).toString();
                    std::shared_ptr<const Prepared> p;
                    {
                        std::lock_guard lock(preparedMutex);
                        p = prepared;
                    }
                    if (!p || p->run != run) {
                        log(QStringLiteral("ignored task %1 of a run this worker has not prepared").arg(id));
                        break;
                    }
                    QString error;
                    std::optional<ClientTask> task =
                        ClientTask::fromCbor(m.fields.value(QStringLiteral("task")).toMap(), &error);
                    if (task)
                        error = checkFloat32(task->model, p->parameterCount, QStringLiteral("task model"));
                    if (task && error.isEmpty() && (task->clientId >= int(p->shards.size())))
                        error = QStringLiteral("client %1 is not one of the %2 clients")
                                    .arg(task->clientId)
                                    .arg(p->shards.size());
                    if (!error.isEmpty()) {
                        send(encode(MessageType::Failed, {{QStringLiteral("run"), qint64(run)},
                                                          {QStringLiteral("id"), id},
                                                          {QStringLiteral("reason"), error}}));
                        break;
                    }
                    trainers.add({run, id, std::move(*task), p, std::make_shared<std::atomic<bool>>(false)});
                    break;
                }
                case MessageType::Cancel:
                    for (const QCborValue &id : m.fields.value(QStringLiteral("ids")).toArray())
                        trainers.cancel(id.toString());
                    break;
                case MessageType::Heartbeat:
                    break;
                default:
                    log(QStringLiteral("ignored a %1 message (workers do not take it)")
                            .arg(messageTypeName(m.type)));
                    break;
                }
            }
            const auto now = Clock::now();
            if (now - lastBeat >= std::chrono::milliseconds(heartbeatMs)) {
                lastBeat = now;
                send(encode(MessageType::Heartbeat, {{QStringLiteral("busy"), trainers.busy()}}));
            }
            // A coordinator that heartbeats slowly (--heartbeat-interval) gets three of its intervals.
            const int silentMs = std::max(options.coordinatorTimeoutMs, welcomed ? 3 * heartbeatMs : 0);
            if (now - lastHeard > std::chrono::milliseconds(silentMs)) {
                log(QStringLiteral("%1 from the coordinator at %2 for %3 s: reconnecting in %4 s")
                        .arg(welcomed ? QStringLiteral("no word") : QStringLiteral("no answer"),
                             options.connect)
                        .arg(silentMs / 1000.0)
                        .arg(backoffMs / 1000.0));
                lost = true;
            }
        }
        if (stop.load()) {
            send(encode(MessageType::Bye, {}));
            break;
        }
        trainers.cancelAll(); // the coordinator deals them out again
        // Closed before the backoff, its queue dropped: a coordinator that starts meanwhile must not get
        // this connection's queued hello (a session that nobody answers, lost after its heartbeat timeout).
        socket.set(zmq::sockopt::linger, 0);
        socket.close();
        for (int waited = 0; waited < backoffMs && !stop.load(); waited += 50)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        backoffMs = std::min(options.maxBackoffMs, backoffMs * 2);
    }
    return finish(kWorkerStopped);
}

} // namespace fedwb::remote
