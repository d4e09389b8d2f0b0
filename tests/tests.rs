mod report_formats;
