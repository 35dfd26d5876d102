#include "steps/step_details.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace cachescope::ui {

namespace {
QString esc(const QString& s)
{
    return s.toHtmlEscaped();
}

QString badge(StepInfo::Status status, const QString& word)
{
    return QStringLiteral("<span style=\"background-color:%1; color:#ffffff; font-weight:bold;\">&nbsp;%2&nbsp;</span>")
        .arg(statusColor(status).name(), esc(word));
}

QString verdict(const StepInfo& s)
{
    using S = StepInfo::Status;
    switch (s.status) {
    case S::Cached:
        return badge(s.status, QObject::tr("CACHED")) + QLatin1Char(' ') +
               esc(s.evaluated ? QObject::tr("loaded from a cache record") : QObject::tr("not evaluated: nothing needs it"));
    case S::Run: return badge(s.status, QObject::tr("MISS")) + QLatin1Char(' ') + esc(QObject::tr("this step would run"));
    case S::DependsOnStage:
        return badge(s.status, QObject::tr("MISS?")) + QLatin1Char(' ') +
               esc(QObject::tr("depends on files a stage produces when it runs"));
    case S::Error: return badge(s.status, QObject::tr("ERROR"));
    case S::Image: return badge(s.status, QObject::tr("IMAGE")) + QLatin1Char(' ') + esc(QObject::tr("base image"));
    case S::ImageChanged:
        return badge(s.status, QObject::tr("IMAGE CHANGED")) + QLatin1Char(' ') + esc(QObject::tr("base image keys unknown to every source"));
    case S::Running: return badge(s.status, QObject::tr("MISS")) + QLatin1Char(' ') + esc(QObject::tr("running now"));
    case S::Done: return badge(s.status, QObject::tr("MISS")) + QLatin1Char(' ') + esc(QObject::tr("this step ran"));
    case S::Waiting:
    case S::Checking: return badge(s.status, statusText(s.status));
    }
    return {};
}
// A file op's plaintext holds each action as base64 JSON: decoded, so users can read what was hashed.
QStringList decodedFileActions(const QString& plaintext)
{
    QStringList out;
    const QJsonDocument doc = QJsonDocument::fromJson(plaintext.toUtf8());
    if (!doc.isObject() || doc.object().value(QStringLiteral("Type")).toString() != QLatin1String("buildkit.file.v0"))
        return out;
    for (const QJsonValue& a : doc.object().value(QStringLiteral("Actions")).toArray())
        out << QString::fromUtf8(QByteArray::fromBase64(a.toString().toLatin1()));
    return out;
}
} // namespace

StepDetails::StepDetails(QWidget* parent) : QWidget(parent)
{
    browser_ = new QTextBrowser(this);
    browser_->setAccessibleName(tr("Step details"));
    browser_->setOpenLinks(false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(browser_);
    render();
}

QString StepDetails::text() const
{
    return browser_->toPlainText();
}

void StepDetails::showStep(const StepInfo* step)
{
    if (step)
        step_ = *step;
    else
        step_.reset();
    render();
}

void StepDetails::render()
{
    if (!step_) {
        browser_->setHtml(QStringLiteral("<p><i>%1</i></p>").arg(esc(tr("Select a step to see why it is cached or why it runs."))));
        return;
    }
    const StepInfo& s = *step_;
    QString h;
    h += QStringLiteral("<p style=\"font-size:large\"><b>%1</b></p>").arg(esc(s.name));
    h += QStringLiteral("<p>%1</p>").arg(verdict(s));
    if (!s.cause.isEmpty()) {
        h += QStringLiteral("<p><b>%1</b> %2<br>%3</p>").arg(esc(tr("Cause:")), esc(s.cause), esc(s.explanation));
    } else if (!s.explanation.isEmpty()) {
        h += QStringLiteral("<p><b>%1</b> %2</p>").arg(esc(s.isMiss() ? tr("Why it runs:") : tr("Note:")), esc(s.explanation));
    }
    if (s.durationMs >= 0 || s.layerBytes >= 0) {
        QStringList facts;
        if (s.durationMs >= 0)
            facts << tr("took %1 s").arg(static_cast<double>(s.durationMs) / 1000.0, 0, 'f', 2);
        if (s.layerBytes >= 0)
            facts << tr("layer written: %1").arg(QLocale().formattedDataSize(s.layerBytes, 1, QLocale::DataSizeSIFormat));
        h += QStringLiteral("<p><b>%1</b> %2</p>").arg(esc(tr("Build:")), esc(facts.join(QStringLiteral(", "))));
    }
    if (!s.changedFiles.isEmpty()) {
        h += QStringLiteral("<p><b>%1</b> %2</p>")
                 .arg(esc(tr("Changed files")), esc(s.changedFilesComparedWith.isEmpty()
                                                        ? QString()
                                                        : tr("(compared with %1)").arg(s.changedFilesComparedWith)));
        h += QStringLiteral("<table border=\"1\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>%1</th><th>%2</th><th>%3</th><th>%4</th><th>%5</th></tr>")
                 .arg(esc(tr("path")), esc(tr("change")), esc(tr("size old → new")), esc(tr("mode old → new")), esc(tr("content")));
        for (const ChangedFileInfo& f : s.changedFiles)
            h += QStringLiteral("<tr><td><code>%1</code></td><td>%2</td><td>%3 → %4</td><td>%5 → %6</td><td>%7</td></tr>")
                     .arg(esc(f.path), esc(f.change), esc(f.oldSize.isEmpty() ? QStringLiteral("–") : f.oldSize),
                          esc(f.newSize.isEmpty() ? QStringLiteral("–") : f.newSize),
                          esc(f.oldMode.isEmpty() ? QStringLiteral("–") : f.oldMode),
                          esc(f.newMode.isEmpty() ? QStringLiteral("–") : f.newMode),
                          esc(f.contentChanged ? tr("changed") : tr("same")));
        h += QStringLiteral("</table>");
    }
    if (!s.log.isEmpty()) {
        // The last lines are what explains a failure; a huge log would make every refresh slow.
        constexpr qsizetype kShown = 400;
        const qsizetype hidden = std::max<qsizetype>(0, s.log.size() - kShown) + s.logDropped;
        h += QStringLiteral("<p><b>%1</b>%2</p><pre style=\"white-space: pre-wrap;\">%3</pre>")
                 .arg(esc(tr("RUN log:")), hidden > 0 ? esc(tr(" (the first %1 lines are not shown)").arg(hidden)) : QString(),
                      esc(s.log.mid(std::max<qsizetype>(0, s.log.size() - kShown)).join(QLatin1Char('\n'))));
    }
    if (!s.source.isEmpty())
        h += QStringLiteral("<p><b>%1</b> %2</p>").arg(esc(tr("Served by:")), esc(s.source));
    if (!s.alsoIn.isEmpty()) {
        h += QStringLiteral("<p><b>%1</b></p><ul>").arg(esc(tr("Also in:")));
        for (const QString& a : s.alsoIn)
            h += QStringLiteral("<li>%1</li>").arg(esc(a));
        h += QStringLiteral("</ul>");
    }
    if (!s.recordDigest.isEmpty())
        h += QStringLiteral("<p><b>%1</b><br><code>%2</code></p>").arg(esc(tr("Record digest:")), esc(s.recordDigest));
    if (!s.keyDigest.isEmpty())
        h += QStringLiteral("<p><b>%1</b><br><code>%2</code></p>").arg(esc(tr("Op digest (D):")), esc(s.keyDigest));
    if (!s.inputs.empty()) {
        h += QStringLiteral("<p><b>%1</b></p><ol start=\"0\">").arg(esc(tr("Inputs:")));
        for (const StepInputInfo& in : s.inputs) {
            h += QStringLiteral("<li>%1").arg(esc(in.producer));
            if (!in.selectorPaths.isEmpty())
                h += QStringLiteral("<br>%1 <code>%2</code>")
                         .arg(esc(tr("selector:")), esc(in.selectorPaths.join(QStringLiteral(", "))));
            if (in.contentBased)
                h += QStringLiteral("<br>%1 <code>%2</code>")
                         .arg(esc(tr("content checksum over:")), esc(in.contentSelectors.join(QStringLiteral(", "))));
            h += QStringLiteral("</li>");
        }
        h += QStringLiteral("</ol>");
    }
    if (!s.keyPlaintext.isEmpty()) {
        h += QStringLiteral("<p><b>%1</b></p><pre style=\"white-space: pre-wrap;\">%2</pre>")
                 .arg(esc(s.isFrom ? tr("Image key (hashed JSON):") : tr("Cache key plaintext (hashed into D):")),
                      esc(s.keyPlaintext));
        const QStringList actions = decodedFileActions(s.keyPlaintext);
        if (!actions.isEmpty())
            h += QStringLiteral("<p><b>%1</b></p><pre style=\"white-space: pre-wrap;\">%2</pre>")
                     .arg(esc(tr("File actions (base64 decoded):")), esc(actions.join(QLatin1Char('\n'))));
    }
    browser_->setHtml(h);
}

} // namespace cachescope::ui
