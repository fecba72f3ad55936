from pipeline.broker_api import PactForVerification, count_interactions, pacts_for_verification
from pipeline.errors import BrokerStepFailed

__all__ = ["BrokerStepFailed", "PactForVerification", "count_interactions", "pacts_for_verification"]
