#include "models/steps_model.h"

#include "solver/dry_run.h"

#include <QFont>
#include <QLocale>

namespace cachescope::ui {

namespace {
QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

// "type=local,src=/x/demo/cache-max" -> "local cache-max"; "type=registry,ref=host/app:cache" -> "host/app:cache".
QString shortSource(const QString& spec)
{
    if (spec.isEmpty() || spec == QLatin1String("local"))
        return spec;
    QString type;
    QString where;
    for (const QString& part : spec.split(QLatin1Char(','))) {
        const qsizetype eq = part.indexOf(QLatin1Char('='));
        const QString key = part.left(eq);
        const QString value = part.mid(eq + 1);
        if (key == QLatin1String("type"))
            type = value;
        else if (key == QLatin1String("src") || key == QLatin1String("ref"))
            where = value;
    }
    if (type == QLatin1String("local"))
        return QStringLiteral("local ") + where.section(QLatin1Char('/'), -1, -1, QString::SectionSkipEmpty);
    return where.isEmpty() ? spec : where;
}

QString shortKey(const QString& digest)
{
    const qsizetype colon = digest.indexOf(QLatin1Char(':'));
    return digest.mid(colon + 1, 12);
}
} // namespace

QString statusText(StepInfo::Status status)
{
    switch (status) {
    case StepInfo::Status::Waiting: return QObject::tr("waiting");
    case StepInfo::Status::Checking: return QObject::tr("checking…");
    case StepInfo::Status::Cached: return QObject::tr("CACHED");
    case StepInfo::Status::Run: return QObject::tr("RUN");
    case StepInfo::Status::DependsOnStage: return QObject::tr("depends on stage");
    case StepInfo::Status::Error: return QObject::tr("ERROR");
    case StepInfo::Status::Image: return QObject::tr("image");
    case StepInfo::Status::ImageChanged: return QObject::tr("image changed");
    case StepInfo::Status::Running: return QObject::tr("running");
    case StepInfo::Status::Done: return QObject::tr("done");
    }
    return {};
}

QColor statusColor(StepInfo::Status status)
{
    switch (status) {
    case StepInfo::Status::Waiting: return QColor(0x61, 0x61, 0x61);
    case StepInfo::Status::Checking: return QColor(0x15, 0x65, 0xc0);
    case StepInfo::Status::Cached: return QColor(0x2e, 0x7d, 0x32);
    case StepInfo::Status::Run: return QColor(0xb4, 0x53, 0x09);
    case StepInfo::Status::DependsOnStage: return QColor(0x6a, 0x1b, 0x9a);
    case StepInfo::Status::Error: return QColor(0xb3, 0x26, 0x1e);
    case StepInfo::Status::Image: return QColor(0x45, 0x5a, 0x64);
    case StepInfo::Status::ImageChanged: return QColor(0xb3, 0x26, 0x1e);
    case StepInfo::Status::Running: return QColor(0x00, 0x69, 0x5c);
    case StepInfo::Status::Done: return QColor(0x8a, 0x4b, 0x08);
    }
    return {};
}

void StepInfo::appendLog(const QStringList& lines)
{
    log += lines;
    const qsizetype excess = log.size() - kMaxLogLines;
    if (excess > 0) {
        log.remove(0, excess);
        logDropped += static_cast<int>(excess);
    }
}

QList<StepInfo> stepsFromReport(const solver::DryRunReport& report)
{
    QList<StepInfo> out;
    for (const solver::StepResult& r : report.steps) {
        StepInfo s;
        s.name = q(r.name);
        s.stage = q(r.stage);
        s.isFrom = r.isFrom;
        s.evaluated = r.evaluated;
        if (r.isFrom)
            s.status = r.cause == "base-image-changed" ? StepInfo::Status::ImageChanged : StepInfo::Status::Image;
        else if (r.cached)
            s.status = StepInfo::Status::Cached;
        else if (r.dependsOnStage)
            s.status = StepInfo::Status::DependsOnStage;
        else
            s.status = StepInfo::Status::Run;
        s.source = q(r.source);
        for (const auto& a : r.alsoIn)
            s.alsoIn << q(a);
        s.recordDigest = q(r.recordDigest);
        s.cause = q(r.cause);
        s.explanation = q(r.explanation);
        s.keyPlaintext = q(r.keyPlaintext);
        s.keyDigest = q(r.keyDigest);
        for (const solver::StepInput& in : r.inputs) {
            StepInputInfo i;
            i.producer = q(in.producer);
            for (const auto& p : in.selectorPaths)
                i.selectorPaths << q(p);
            i.selector = q(in.selector);
            i.contentBased = in.contentBased;
            for (const auto& p : in.contentSelectors)
                i.contentSelectors << q(p);
            s.inputs.push_back(std::move(i));
        }
        for (const solver::ChangedFile& c : r.changedFiles) {
            ChangedFileInfo f;
            f.path = q(c.path);
            f.change = q(c.change);
            f.oldSize = c.oldSize ? QString::number(*c.oldSize) : QString();
            f.newSize = c.newSize ? QString::number(*c.newSize) : QString();
            f.oldMode = c.oldMode ? QString::number(*c.oldMode, 8) : QString();
            f.newMode = c.newMode ? QString::number(*c.newMode, 8) : QString();
            f.contentChanged = c.contentChanged;
            s.changedFiles << f;
        }
        s.changedFilesComparedWith = q(r.changedFilesComparedWith);
        out << s;
    }
    return out;
}

StepsModel::StepsModel(QObject* parent) : QAbstractItemModel(parent) {}

QModelIndex StepsModel::index(int row, int column, const QModelIndex& parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid())
        return row < static_cast<int>(stages_.size()) ? createIndex(row, column, quintptr(0)) : QModelIndex();
    if (parent.internalId() != 0 || parent.row() >= static_cast<int>(stages_.size()))
        return {};
    const Stage& st = stages_[static_cast<std::size_t>(parent.row())];
    return row < static_cast<int>(st.steps.size()) ? createIndex(row, column, quintptr(parent.row() + 1)) : QModelIndex();
}

QModelIndex StepsModel::parent(const QModelIndex& child) const
{
    if (!child.isValid() || child.internalId() == 0)
        return {};
    return createIndex(static_cast<int>(child.internalId() - 1), 0, quintptr(0));
}

int StepsModel::rowCount(const QModelIndex& parent) const
{
    if (!parent.isValid())
        return static_cast<int>(stages_.size());
    if (parent.internalId() != 0 || parent.column() != 0)
        return 0;
    return static_cast<int>(stages_[static_cast<std::size_t>(parent.row())].steps.size());
}

int StepsModel::columnCount(const QModelIndex&) const
{
    return ColumnCount;
}

QString StepsModel::stageLabel(const Stage& stage) const
{
    return stage.name.isEmpty() ? tr("build") : stage.name;
}

QVariant StepsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid())
        return {};
    if (index.internalId() == 0) {
        const Stage& st = stages_[static_cast<std::size_t>(index.row())];
        if (role == IsStageRole)
            return true;
        if (role == MissRole)
            return QString(); // stages show when a child matches (recursive filtering)
        if (index.column() == NameColumn && (role == Qt::DisplayRole || role == Qt::AccessibleTextRole))
            return stageLabel(st);
        if (index.column() == StatusColumn && role == Qt::DisplayRole) {
            int cached = 0;
            for (const StepInfo& s : st.steps)
                cached += s.status == StepInfo::Status::Cached;
            int steps = 0;
            for (const StepInfo& s : st.steps)
                steps += !s.isFrom;
            return tr("%1/%2 cached").arg(cached).arg(steps);
        }
        if (role == Qt::FontRole && index.column() == NameColumn) {
            QFont f;
            f.setBold(true);
            return f;
        }
        return {};
    }
    const StepInfo* s = step(index);
    if (!s)
        return {};
    switch (role) {
    case IsStageRole: return false;
    case MissRole: return s->isMiss() ? QStringLiteral("miss") : QStringLiteral("-");
    case StatusRole: return static_cast<int>(s->status);
    case Qt::DisplayRole:
    case Qt::AccessibleTextRole:
        switch (index.column()) {
        case NameColumn: return s->name;
        case StatusColumn: return statusText(s->status);
        case SourceColumn: return shortSource(s->source);
        case DurationColumn:
            if (s->durationMs < 0)
                return QString();
            // Sub-second steps are most of a cached rebuild: keep their hundredths.
            return QStringLiteral("%1 s").arg(static_cast<double>(s->durationMs) / 1000.0, 0, 'f', s->durationMs < 10000 ? 2 : 1);
        case SizeColumn: return s->layerBytes < 0 ? QString() : QLocale().formattedDataSize(s->layerBytes);
        case KeyColumn: return shortKey(s->recordDigest);
        }
        break;
    case Qt::ToolTipRole:
        switch (index.column()) {
        case NameColumn: return s->name;
        case StatusColumn:
            if (s->status == StepInfo::Status::Cached && !s->evaluated)
                return tr("CACHED without evaluation: %1").arg(s->explanation);
            return s->explanation.isEmpty() ? statusText(s->status) : s->explanation;
        case SourceColumn: return s->source;
        case KeyColumn: return s->recordDigest;
        }
        break;
    case Qt::BackgroundRole:
        if (index.column() == StatusColumn)
            return statusColor(s->status);
        break;
    case Qt::ForegroundRole:
        if (index.column() == StatusColumn)
            return QColor(Qt::white);
        break;
    case Qt::FontRole:
        if (index.column() == StatusColumn || index.column() == KeyColumn) {
            QFont f;
            if (index.column() == StatusColumn)
                f.setBold(true);
            else
                f.setFamily(QStringLiteral("monospace"));
            return f;
        }
        break;
    case Qt::TextAlignmentRole:
        if (index.column() == StatusColumn)
            return int(Qt::AlignCenter);
        if (index.column() == DurationColumn || index.column() == SizeColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    }
    return {};
}

QVariant StepsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Step");
    case StatusColumn: return tr("Status");
    case SourceColumn: return tr("Source");
    case DurationColumn: return tr("Time");
    case SizeColumn: return tr("Layer");
    case KeyColumn: return tr("Key");
    }
    return {};
}

void StepsModel::clear()
{
    beginResetModel();
    stages_.clear();
    endResetModel();
}

void StepsModel::setSteps(const QList<StepInfo>& steps)
{
    beginResetModel();
    stages_.clear();
    for (const StepInfo& s : steps) {
        int row = stageRow(s.stage);
        if (row < 0) {
            stages_.push_back(Stage{s.stage, {}});
            row = static_cast<int>(stages_.size()) - 1;
        }
        stages_[static_cast<std::size_t>(row)].steps.push_back(s);
    }
    endResetModel();
}

void StepsModel::updateStep(const StepInfo& step)
{
    const QModelIndex existing = indexOfStep(step.name);
    if (existing.isValid()) {
        editStep(existing, [&step](StepInfo& s) { s = step; });
        return;
    }
    int row = stageRow(step.stage);
    if (row < 0) {
        row = static_cast<int>(stages_.size());
        beginInsertRows({}, row, row);
        stages_.push_back(Stage{step.stage, {}});
        endInsertRows();
    }
    Stage& st = stages_[static_cast<std::size_t>(row)];
    const int at = static_cast<int>(st.steps.size());
    beginInsertRows(index(row, 0), at, at);
    st.steps.push_back(step);
    endInsertRows();
}

void StepsModel::setAllStatuses(StepInfo::Status status)
{
    editAllSteps([status](StepInfo& s) { s.status = status; });
}

void StepsModel::editStep(const QModelIndex& index, const std::function<void(StepInfo&)>& edit)
{
    if (!step(index))
        return;
    edit(stages_[static_cast<std::size_t>(index.internalId() - 1)].steps[static_cast<std::size_t>(index.row())]);
    const QModelIndex row = index.siblingAtColumn(0);
    emit dataChanged(row, row.siblingAtColumn(ColumnCount - 1));
    const QModelIndex stageIndex = row.parent();
    emit dataChanged(stageIndex, stageIndex.siblingAtColumn(ColumnCount - 1));
}

void StepsModel::editAllSteps(const std::function<void(StepInfo&)>& edit)
{
    for (Stage& st : stages_)
        for (StepInfo& s : st.steps)
            edit(s);
    for (int r = 0; r < static_cast<int>(stages_.size()); ++r) {
        const QModelIndex stageIndex = index(r, 0);
        emit dataChanged(stageIndex, stageIndex.siblingAtColumn(ColumnCount - 1));
        const int n = rowCount(stageIndex);
        if (n > 0)
            emit dataChanged(index(0, 0, stageIndex), index(n - 1, ColumnCount - 1, stageIndex));
    }
}

void StepsModel::applyReport(const solver::DryRunReport& report)
{
    const QList<StepInfo> incoming = stepsFromReport(report);
    const QList<StepInfo> current = steps();
    bool sameSteps = incoming.size() == current.size();
    for (qsizetype i = 0; sameSteps && i < incoming.size(); ++i)
        sameSteps = incoming[i].name == current[i].name && incoming[i].stage == current[i].stage;
    if (!sameSteps) {
        setSteps(incoming);
        return;
    }
    for (const StepInfo& s : incoming)
        updateStep(s);
}

const StepInfo* StepsModel::step(const QModelIndex& index) const
{
    if (!index.isValid() || index.internalId() == 0 || index.model() != this)
        return nullptr;
    const Stage& st = stages_[static_cast<std::size_t>(index.internalId() - 1)];
    return &st.steps[static_cast<std::size_t>(index.row())];
}

QModelIndex StepsModel::indexOfStep(const QString& name, int column) const
{
    for (std::size_t r = 0; r < stages_.size(); ++r)
        for (std::size_t i = 0; i < stages_[r].steps.size(); ++i)
            if (stages_[r].steps[i].name == name)
                return createIndex(static_cast<int>(i), column, quintptr(r + 1));
    return {};
}

QModelIndex StepsModel::indexOfVertex(int vertex) const
{
    for (std::size_t r = 0; r < stages_.size(); ++r)
        for (std::size_t i = 0; i < stages_[r].steps.size(); ++i)
            if (stages_[r].steps[i].vertex == vertex)
                return createIndex(static_cast<int>(i), 0, quintptr(r + 1));
    return {};
}

QModelIndex StepsModel::firstMiss() const
{
    for (std::size_t r = 0; r < stages_.size(); ++r)
        for (std::size_t i = 0; i < stages_[r].steps.size(); ++i)
            if (stages_[r].steps[i].isMiss())
                return createIndex(static_cast<int>(i), 0, quintptr(r + 1));
    return {};
}

int StepsModel::stepCount() const
{
    int n = 0;
    for (const Stage& st : stages_)
        n += static_cast<int>(st.steps.size());
    return n;
}

int StepsModel::countWithStatus(StepInfo::Status status) const
{
    int n = 0;
    for (const Stage& st : stages_)
        for (const StepInfo& s : st.steps)
            n += s.status == status;
    return n;
}

QList<StepInfo> StepsModel::steps() const
{
    QList<StepInfo> out;
    for (const Stage& st : stages_)
        for (const StepInfo& s : st.steps)
            out << s;
    return out;
}

void StepsModel::visitSteps(const std::function<void(const StepInfo&)>& visit) const
{
    for (const Stage& st : stages_)
        for (const StepInfo& s : st.steps)
            visit(s);
}

int StepsModel::stageRow(const QString& stage) const
{
    for (std::size_t r = 0; r < stages_.size(); ++r)
        if (stages_[r].name == stage)
            return static_cast<int>(r);
    return -1;
}

} // namespace cachescope::ui
