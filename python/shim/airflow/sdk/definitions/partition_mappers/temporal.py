"""Time-based partition mappers (the SDK's ``StartOf...Mapper``)."""
from airflow.sdk.definitions.partition_mappers.base import PartitionMapper


class _BaseTemporalMapper(PartitionMapper):
    default_output_format = ""

    def __init__(self, input_format="%Y-%m-%dT%H:%M:%S", output_format=None):
        self.input_format = input_format
        self.output_format = output_format or self.default_output_format


class StartOfHourMapper(_BaseTemporalMapper):
    default_output_format = "%Y-%m-%dT%H"


class StartOfDayMapper(_BaseTemporalMapper):
    default_output_format = "%Y-%m-%d"


class StartOfWeekMapper(_BaseTemporalMapper):
    default_output_format = "%Y-%m-%d (W%V)"


class StartOfMonthMapper(_BaseTemporalMapper):
    default_output_format = "%Y-%m"


class StartOfQuarterMapper(_BaseTemporalMapper):
    default_output_format = "%Y-Q{quarter}"


class StartOfYearMapper(_BaseTemporalMapper):
    default_output_format = "%Y"
