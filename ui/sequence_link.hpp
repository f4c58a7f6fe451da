#pragma once
// The sequence of a batch (MODEL.md §8) whose tokens and pages the heatmaps show, shared
// like the layer: the relevance and the placement view each get a selector kept in sync
// with the link, visible only when the trace holds S > 1 sequences.
#include <QObject>

#include <cstdint>
#include <vector>

class QComboBox;
class QLabel;
class QWidget;

namespace kvtier::ui {

class SequenceLink : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    int sequence() const { return sequence_; }
    int count() const { return static_cast<int>(prefill_.size()); }
    // P_s of every sequence (one entry for a lone sequence); a new list shows sequence 0.
    void setPrefills(const std::vector<int64_t>& prefill);
    void setSequence(int s);   // 0..S-1; anything else is ignored
    // "Sequence:" and a selector ("sequence 2 (P = 5,120)", ...) that follows and drives the
    // link; both hidden while the trace has one sequence.
    QComboBox* makeSelector(QWidget* parent, QLabel* label);

signals:
    void sequenceChanged(int sequence);
    void prefillsChanged();

private:
    std::vector<int64_t> prefill_{0};
    int sequence_ = 0;
};

} // namespace kvtier::ui
