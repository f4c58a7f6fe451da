#include "ui/sequence_link.hpp"

#include <QComboBox>
#include <QLabel>
#include <QLocale>

#include <algorithm>

namespace kvtier::ui {

void SequenceLink::setPrefills(const std::vector<int64_t>& prefill)
{
    const std::vector<int64_t> p = prefill.empty() ? std::vector<int64_t>{0} : prefill;
    if (p == prefill_)
        return;
    prefill_ = p;
    emit prefillsChanged();
    if (sequence_ != 0) {
        sequence_ = 0;
        emit sequenceChanged(sequence_);
    }
}

void SequenceLink::setSequence(int s)
{
    if (s < 0 || s >= count() || s == sequence_)
        return;
    sequence_ = s;
    emit sequenceChanged(sequence_);
}

QComboBox* SequenceLink::makeSelector(QWidget* parent, QLabel* label)
{
    auto* combo = new QComboBox(parent);
    combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    combo->setObjectName(QStringLiteral("sequenceSelector"));
    combo->setToolTip(tr("A batch of distinct sequences (MODEL.md §8): the heatmap shows this sequence's tokens "
                         "or pages; P = its prefill"));
    auto fill = [this, combo, label] {
        const QSignalBlocker block(combo);
        combo->clear();
        const QLocale en(QLocale::English);
        for (int s = 0; s < count(); ++s)
            combo->addItem(tr("sequence %1 (P = %2)").arg(s).arg(en.toString(static_cast<qlonglong>(prefill_[static_cast<size_t>(s)]))), s);
        combo->setCurrentIndex(std::max(0, combo->findData(sequence_)));
        combo->setVisible(count() > 1);
        label->setVisible(count() > 1);
    };
    fill();
    connect(this, &SequenceLink::prefillsChanged, combo, fill);
    connect(this, &SequenceLink::sequenceChanged, combo, [combo](int s) {
        const QSignalBlocker block(combo);
        combo->setCurrentIndex(std::max(0, combo->findData(s)));
    });
    connect(combo, &QComboBox::currentIndexChanged, this, [this, combo] { setSequence(combo->currentData().toInt()); });
    return combo;
}

} // namespace kvtier::ui
