#pragma once
// Playing the decode steps: the shared step cursor advances about 400 frames over the
// visible range, 25 per second, and wraps around inside it.
#include <QObject>

class QTimer;

namespace kvtier::ui {

class StepLink;

class Playback : public QObject {
    Q_OBJECT
public:
    Playback(StepLink* link, QObject* parent);
    bool playing() const;

public slots:
    void toggle();
    void stepForward();
    void stepBack();

signals:
    void playingChanged(bool playing);

private:
    void advance();
    StepLink* link_;
    QTimer* timer_;
};

} // namespace kvtier::ui
