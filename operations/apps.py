from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from celery.signals import before_task_publish, task_postrun, task_prerun

        from openrouter import observe
        from operations import metrics, signals

        # Every process that starts (web, worker, beat, commands) folds the metrics files of
        # processes that are gone, so the folder stays small and totals never go backwards.
        metrics.compact_dead_processes()
        observe.add_listener(
            lambda endpoint, outcome, seconds: metrics.provider_call(
                endpoint=endpoint, outcome=outcome, seconds=seconds
            )
        )
        before_task_publish.connect(signals.add_request_id, weak=False, dispatch_uid="studio-request-id-publish")
        task_prerun.connect(signals.task_started, weak=False, dispatch_uid="studio-request-id-start")
        task_postrun.connect(signals.task_ended, weak=False, dispatch_uid="studio-request-id-end")
